import Dispatch
import Glibc
import XCTest

@testable import HTTPServer

final class SignalWatcherTests: XCTestCase {
    func testDeliversWatchedSignals() {
        let registered = DispatchSemaphore(value: 0)
        let received = expectation(description: "SIGUSR2 seen")
        received.assertForOverFulfill = false
        let watcher = SignalWatcher(signals: [SIGUSR2], registered: { _ in registered.signal() }) { signal in
            XCTAssertEqual(signal, SIGUSR2)
            received.fulfill()
        }
        XCTAssertEqual(registered.wait(timeout: .now() + 2), .success)
        kill(getpid(), SIGUSR2)
        wait(for: [received], timeout: 2)
        watcher.cancel()
    }

    func testAsyncStream() async throws {
        let stream = SignalWatcher.stream(signals: [SIGUSR1])
        // The source registers asynchronously; until then a signal is ignored, so keep raising
        // until one gets through (the process survives either way: that is part of the test).
        let raiser = Task {
            while !Task.isCancelled {
                kill(getpid(), SIGUSR1)
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        defer { raiser.cancel() }
        var iterator = stream.makeAsyncIterator()
        let signal = await iterator.next()
        XCTAssertEqual(signal, SIGUSR1)
    }
}
