import LockedValue
import XCTest

@testable import HTTPServer

final class ClientPresenceTests: XCTestCase {
    func testCallbacksRunOnceOnDisconnect() {
        let presence = ClientPresence()
        let calls = Locked(0)
        presence.onDisconnect { calls.withLock { $0 += 1 } }
        XCTAssertTrue(presence.isConnected)
        presence.markDisconnected()
        presence.markDisconnected()
        XCTAssertFalse(presence.isConnected)
        XCTAssertEqual(calls.withLock { $0 }, 1)
        // Registering late runs at once.
        presence.onDisconnect { calls.withLock { $0 += 1 } }
        XCTAssertEqual(calls.withLock { $0 }, 2)
    }

    func testFinishedRequestsIgnoreLaterDisconnects() {
        let presence = ClientPresence()
        let calls = Locked(0)
        presence.onDisconnect { calls.withLock { $0 += 1 } }
        presence.finish()
        presence.markDisconnected()
        XCTAssertEqual(calls.withLock { $0 }, 0)
        XCTAssertTrue(presence.isConnected)
    }
}
