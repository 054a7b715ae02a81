import ServerLog
import ServerSettings
import XCTest

@testable import ENATCLI

final class ServedModelsTests: XCTestCase {
    func testMissingModelsNameWhatToPass() {
        XCTAssertThrowsError(try ServedModels.load(ServerConfiguration(), logger: .disabled, fileExists: { _ in false })) {
            let message = "\($0)"
            XCTAssertTrue(message.contains("--model"), message)
            XCTAssertTrue(message.contains("Models/demo-shapes"), message)
            XCTAssertTrue(message.contains("random:tiny"), message)
        }
        // Started from elsewhere with a checkout's binary: the exact flags for that checkout's bundles.
        let message = ServedModels.missingDemoBundles(
            executablePath: "/src/enat-serve/.build/release/enat", workingDirectory: "/home/user",
            fileExists: { $0.hasPrefix("/src/enat-serve/Models/") })
        XCTAssertTrue(message.contains("/home/user/Models/demo-shapes"), message)
        XCTAssertTrue(message.contains("--model /src/enat-serve/Models/demo-shapes --model /src/enat-serve/Models/demo-captions"), message)
        XCTAssertTrue(message.contains("cd /src/enat-serve"), message)
        var configuration = ServerConfiguration()
        configuration.models = ["/no/such/bundle"]
        XCTAssertThrowsError(try ServedModels.load(configuration, logger: .disabled)) {
            XCTAssertTrue("\($0)".contains("'/no/such/bundle' does not exist"), "\($0)")
        }
    }
}
