import Foundation
import HTTPServer
import ImageAPI
import Scheduler
import ServerLog
import XCTest

@testable import ServerSettings

/// Every declared setting is read the same way from the file, the environment and the flags.
final class SettingSourcesTests: XCTestCase {
    /// A value other than the default for every setting, as each source writes it.
    static let samples: [String: (environment: String, flags: [String], json: String)] = [
        "host": ("10.1.2.3", ["10.1.2.3"], #""10.1.2.3""#),
        "port": ("9001", ["9001"], "9001"),
        "models": ("a, b", ["a", "b"], #"["a", "b"]"#),
        "max_batch_size": ("3", ["3"], "3"),
        "max_queue_length": ("5", ["5"], "5.0"),
        "max_queue_wait_seconds": ("1.5", ["1.5"], "1.5"),
        "request_timeout_seconds": ("12", ["12"], "12"),
        "blas_threads": ("7", ["7"], "7"),
        "max_body_bytes": ("2048", ["2048"], "2048"),
        "max_upload_bytes": ("4096", ["4096"], "4096"),
        "max_connections": ("9", ["9"], "9"),
        "max_connections_per_address": ("4", ["4"], "4"),
        "shutdown_grace_seconds": ("0", ["0"], "0"),
        "job_retention_seconds": ("60", ["60"], "60"),
        "max_retained_jobs": ("11", ["11"], "11"),
        "max_retained_bytes": ("2000000", ["2000000"], "2000000"),
        "log_level": ("DEBUG", ["debug"], #""debug""#),
        "log_format": ("json", ["json"], #""json""#),
        "api_keys": ("k1,k2", ["k1", "k2"], #"["k1", "k2"]"#),
        "api_key_file": ("/keys", ["/keys"], #""/keys""#),
        "protect_metrics": ("yes", ["true"], "true"),
        "cors_origins": ("https://a.example", ["https://a.example"], #"["https://a.example"]"#),
        "trusted_proxies": ("10.0.0.1", ["10.0.0.1"], #"["10.0.0.1"]"#),
        "precision": ("fp32", ["fp32"], #""fp32""#),
    ]

    func testEverySettingHasASample() {
        XCTAssertEqual(Set(Self.samples.keys), Set(Setting.all.map(\.key)))
    }

    func testEverySourceGivesTheSameValue() throws {
        for setting in Setting.all {
            let sample = try XCTUnwrap(Self.samples[setting.key], setting.key)
            var fromEnvironment = ServerConfiguration()
            fromEnvironment.apply(try .environment([setting.environmentName: sample.environment]))
            var fromFlags = ServerConfiguration()
            fromFlags.apply(try .flags([setting.key: sample.flags]))
            var fromFile = ServerConfiguration()
            fromFile.apply(try .json(Data("{\"\(setting.key)\": \(sample.json)}".utf8)))
            XCTAssertNotEqual(fromEnvironment, ServerConfiguration(), "\(setting.environmentName) changes the configuration")
            XCTAssertEqual(fromFlags, fromEnvironment, "--\(setting.flag) and \(setting.environmentName)")
            XCTAssertEqual(fromFile, fromEnvironment, "key \(setting.key) and \(setting.environmentName)")
            XCTAssertNoThrow(try fromEnvironment.validate(), setting.key)
        }
    }

    func testWrongValuesAreNamedBySource() {
        XCTAssertThrowsError(try ServerConfiguration.Overrides.flags(["max_batch_size": ["four"]])) {
            XCTAssertEqual("\($0)", "--max-batch-size 'four' is not an integer")
        }
        XCTAssertThrowsError(try ServerConfiguration.Overrides.environment(["ENAT_LOG_FORMAT": "xml"])) {
            XCTAssertEqual("\($0)", "ENAT_LOG_FORMAT='xml' is not one of text, json")
        }
        XCTAssertThrowsError(try ServerConfiguration.Overrides.json(Data(#"{"protect_metrics": 1}"#.utf8))) {
            XCTAssertEqual("\($0)", "key 'protect_metrics': must be true or false.")
        }
        XCTAssertThrowsError(try ServerConfiguration.Overrides.json(Data(#"{"max_batch_size": 2.5}"#.utf8))) {
            XCTAssertEqual("\($0)", "key 'max_batch_size': must be an integer.")
        }
        XCTAssertThrowsError(try ServerConfiguration.Overrides.json(Data(#"{"max_queue_wait_seconds": true}"#.utf8)))
    }

    func testAnEmptyKeyFileVariableIsNotSet() throws {
        let overrides = try ServerConfiguration.Overrides.environment(["ENAT_API_KEY_FILE": " ", "ENAT_PROTECT_METRICS": ""])
        XCTAssertEqual(overrides.keys, ["protect_metrics"])
    }

    /// The components' own defaults (for library users and tests) are the declared ones, so a
    /// server started without settings and a component built without arguments behave alike.
    func testComponentDefaultsAgreeWithTheDeclarations() {
        let defaults = ServerConfiguration()
        XCTAssertEqual(defaults.schedulerConfiguration, SchedulerConfiguration())
        XCTAssertEqual(defaults.blasThreads, ProcessInfo.processInfo.activeProcessorCount, "one documented default: the CPUs")
        let http = HTTPServerConfiguration()
        XCTAssertEqual(defaults.httpServerConfiguration.maxConnections, http.maxConnections)
        XCTAssertEqual(defaults.httpServerConfiguration.maxConnectionsPerAddress, http.maxConnectionsPerAddress)
        // The one addition: the edit and job routes take an image and a mask of the API's upload
        // size (a job's as base64 too).
        var limits = http.limits
        let upload = APIConfiguration.defaultMaxUploadBytes
        limits.maxBodyBytesByPath = [
            "/v1/images/edits": 2 * upload + limits.maxBodyBytes, "/v1/jobs": 2 * ((upload + 2) / 3 * 4) + limits.maxBodyBytes,
        ]
        XCTAssertEqual(defaults.httpServerConfiguration.limits, limits)
        XCTAssertEqual(defaults.apiConfiguration(apiKeys: [], logger: .disabled).requestTimeout, APIConfiguration().requestTimeout)
        XCTAssertEqual(defaults.apiConfiguration(apiKeys: [], logger: .disabled).maxUploadBytes, APIConfiguration().maxUploadBytes)
    }

    func testTheUploadLimitSetsTheAPIsAndTheUploadRoutesBodyLimits() {
        var configuration = ServerConfiguration()
        configuration.maxUploadBytes = 3000
        configuration.maxBodyBytes = 2048
        XCTAssertEqual(configuration.apiConfiguration(apiKeys: [], logger: .disabled).maxUploadBytes, 3000)
        XCTAssertEqual(configuration.httpServerConfiguration.limits.maxBodyBytesByPath, ["/v1/images/edits": 6000 + 2048, "/v1/jobs": 8000 + 2048])
    }
}
