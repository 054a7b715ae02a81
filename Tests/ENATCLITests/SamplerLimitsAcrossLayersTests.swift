import ArgumentParser
import CLIPText
import ENAT
import Foundation
import HTTPServer
import ModelBundle
import Scheduler
import VQGAN
import XCTest

@testable import ENATCLI
@testable import ImageAPI

/// Each sampler setting walked through the three layers that take one from a person: the HTTP
/// API (its handler, in process), `enat generate`'s arguments and a bundle's `config.json`
/// defaults. Every layer must accept both ends of `SamplerLimits.engine` and refuse one past
/// either end, naming the setting its own way (wire parameter, flag, bundle key).
///
/// It lives with the CLI's tests because the CLI is the one module above all three layers.
final class SamplerLimitsAcrossLayersTests: XCTestCase {
    private let limits = SamplerLimits.engine

    /// One boundary value of one setting, as each layer spells it.
    private struct Probe {
        var wire: String
        var flag: String
        var bundleKey: String
        var json: Any
        var text: String
        var apply: (inout SamplerSettings) -> Void
    }

    private func intProbes(_ range: ClosedRange<Int>, wire: String, flag: String, bundleKey: String, set: WritableKeyPath<SamplerSettings, Int>)
        -> [(Probe, accepted: Bool)]
    {
        [(range.lowerBound - 1, false), (range.lowerBound, true), (range.upperBound, true), (range.upperBound + 1, false)].map {
            value, accepted in
            (Probe(wire: wire, flag: flag, bundleKey: bundleKey, json: value, text: String(value)) { $0[keyPath: set] = value }, accepted)
        }
    }

    private func doubleProbes(
        _ range: ClosedRange<Double>, wire: String, flag: String, bundleKey: String, set: WritableKeyPath<SamplerSettings, Double>
    ) -> [(Probe, accepted: Bool)] {
        // Just past the ends by 0.001, not by one ulp: Foundation's JSON reader on Linux reads
        // 100.00000000000001 as a decimal and hands back 100.0.
        [(range.lowerBound - 0.001, false), (range.lowerBound, true), (range.upperBound, true), (range.upperBound + 0.001, false)].map {
            value, accepted in
            (Probe(wire: wire, flag: flag, bundleKey: bundleKey, json: value, text: "\(value)") { $0[keyPath: set] = value }, accepted)
        }
    }

    private var settingProbes: [(Probe, accepted: Bool)] {
        intProbes(limits.steps, wire: "steps", flag: "--steps", bundleKey: "sampler.steps", set: \.steps)
            + doubleProbes(limits.guidanceScale, wire: "guidance_scale", flag: "--cfg", bundleKey: "sampler.cfg_scale", set: \.guidanceScale)
            + doubleProbes(
                limits.maskTemperature, wire: "mask_temperature", flag: "--mask-temp", bundleKey: "sampler.mask_temp", set: \.maskTemperature)
            + doubleProbes(
                limits.sampleTemperature, wire: "sample_temperature", flag: "--samp-temp", bundleKey: "sampler.samp_temp",
                set: \.sampleTemperature)
    }

    // MARK: Steps, guidance and temperatures

    func testSettingsHaveTheSameLimitsInTheAPITheCLIAndBundleDefaults() async throws {
        let api = try Self.api()
        for (probe, accepted) in settingProbes {
            let what = "\(probe.wire) = \(probe.text)"

            let answer = try await Self.post(api, ["class_label": 0, probe.wire: probe.json])
            XCTAssertEqual(answer.status, accepted ? 202 : 400, "API \(what): \(answer.body)")
            if !accepted { XCTAssertEqual(answer.param, probe.wire, "API \(what)") }

            let cli = Self.cli(["--class", "0", "\(probe.flag)=\(probe.text)"])
            if accepted {
                XCTAssertNil(cli.error, "CLI \(what)")
                if let command = cli.command {
                    XCTAssertNoThrow(try command.request(for: Self.classModel), "CLI \(what) after loading")
                }
            } else {
                XCTAssertTrue(cli.error?.hasPrefix(probe.flag) ?? false, "CLI \(what): \(cli.error ?? "accepted")")
            }

            var bundle = Self.classModel.configuration
            probe.apply(&bundle.sampler)
            let problem = Self.problem { () throws(ModelBundleError) in try bundle.validate() }
            if accepted {
                XCTAssertNil(problem, "bundle \(what)")
            } else {
                XCTAssertTrue(problem?.contains("\(probe.bundleKey) must be") ?? false, "bundle \(what): \(problem ?? "accepted")")
            }
        }
    }

    func testNonFiniteSettingsAreRefusedEverywhere() throws {
        for flag in ["--cfg", "--mask-temp", "--samp-temp"] {
            XCTAssertTrue(Self.cli(["--class", "0", "\(flag)=nan"]).error?.hasPrefix(flag) ?? false, flag)
        }
        var bundle = Self.classModel.configuration
        bundle.sampler.sampleTemperature = .infinity
        XCTAssertTrue(Self.problem { () throws(ModelBundleError) in try bundle.validate() }?.contains("sampler.samp_temp") ?? false)
    }

    // MARK: Class label and caption (a bundle's defaults hold neither)

    func testClassLabelHasTheModelsRangeInTheAPIAndTheCLI() async throws {
        let api = try Self.api()
        let classes = Self.classModel.configuration.transformer.numClasses
        for (label, accepted) in [(-1, false), (0, true), (classes - 1, true), (classes, false)] {
            let answer = try await Self.post(api, ["class_label": label])
            XCTAssertEqual(answer.status, accepted ? 202 : 400, "API class_label \(label): \(answer.body)")
            if !accepted { XCTAssertEqual(answer.param, "class_label") }

            let cli = Self.cli(["--class=\(label)"])
            XCTAssertNil(cli.error, "nothing to check before the model is loaded")
            let command = try XCTUnwrap(cli.command)
            do {
                _ = try command.request(for: Self.classModel)
                XCTAssertTrue(accepted, "CLI --class \(label) accepted")
            } catch {
                XCTAssertFalse(accepted, "CLI --class \(label): \(error)")
                XCTAssertTrue("\(error)".contains("--class: label \(label) is outside 0...\(classes - 1)"), "\(error)")
            }
        }
    }

    func testCaptionLimitIsCountedInUnicodeScalarsInTheAPIAndTheCLI() async throws {
        let api = try Self.api()
        // "e" + combining acute: one character, two scalars, three UTF-8 bytes; the limit counts scalars.
        let accent = "e\u{301}"
        let longest = String(repeating: accent, count: limits.captionScalars / 2)
        XCTAssertEqual(longest.unicodeScalars.count, limits.captionScalars)
        for (caption, accepted) in [("a red circle", true), (longest, true), (longest + "a", false), (" \n", false)] {
            let what = "caption of \(caption.unicodeScalars.count) scalars"
            let answer = try await Self.post(api, ["model": "tiny-caption", "caption": caption])
            XCTAssertEqual(answer.status, accepted ? 202 : 400, "API \(what): \(answer.body)")
            if !accepted { XCTAssertEqual(answer.param, "caption") }

            let cli = Self.cli(["--prompt=\(caption)"])
            if accepted {
                XCTAssertNil(cli.error, "CLI \(what)")
                XCTAssertNoThrow(try cli.command.map { try $0.request(for: Self.captionModel) }, "CLI \(what) after loading")
            } else {
                XCTAssertTrue(cli.error?.hasPrefix("--prompt") ?? false, "CLI \(what): \(cli.error ?? "accepted")")
            }
        }
    }

    // MARK: A server's narrower step limit

    func testTheServersMaxStepsNarrowsTheSameLimit() async throws {
        let api = try Self.api(maxSteps: 16)
        let accepted = try await Self.post(api, ["class_label": 0, "steps": 16])
        XCTAssertEqual(accepted.status, 202)
        let refused = try await Self.post(api, ["class_label": 0, "steps": 17])
        XCTAssertEqual(refused.status, 400)
        XCTAssertEqual(refused.param, "steps")
        XCTAssertTrue(refused.message.contains("between 1 and 16"), refused.message)
        let wider = try await Self.post(try Self.api(maxSteps: 1000), ["class_label": 0, "steps": limits.steps.upperBound + 1])
        XCTAssertEqual(wider.status, 400, "a server cannot widen the engine's limit")
    }

    // MARK: Support

    private static let classModel = try! LoadedModel.random(configuration: configuration(id: "tiny-class"), seed: 7)
    private static let captionModel: LoadedModel = {
        var configuration = SamplerLimitsAcrossLayersTests.configuration(id: "tiny-caption")
        configuration.kind = .caption
        configuration.classNames = []
        configuration.transformer.numClasses = 0
        configuration.textEncoder = TextEncoderConfiguration(hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1, numAttentionHeads: 2)
        configuration.files = .init(textEncoder: "text_encoder.safetensors", vocabulary: "bpe_simple_vocab_16e6.txt.gz")
        return try! LoadedModel.random(configuration: configuration, seed: 8)
    }()

    private static func configuration(id: String) -> BundleConfiguration {
        BundleConfiguration(
            id: id, kind: .classConditional, description: "test model", resolution: 8,
            transformer: ENATConfiguration(
                latentSize: 4, hiddenSize: 32, numHeads: 2, encoderDepth: 1, decoderDepth: 1, codebookSize: 64, numClasses: 3),
            vqgan: VQGANConfiguration(ch: 32, chMult: [1, 1], numResBlocks: 1, zChannels: 8, nEmbed: 64, resolution: 8),
            sampler: SamplerSettings(steps: 4, guidanceScale: 2, maskTemperature: 1.5, sampleTemperature: 6),
            classNames: ["red circle", "blue square", "green triangle"])
    }

    /// The API over a scheduler that is never started: accepted jobs wait in its queue.
    private static func api(maxSteps: Int? = nil) throws -> ImageAPI {
        let scheduler = GenerationScheduler(
            models: [classModel, captionModel], configuration: SchedulerConfiguration(maxQueueLength: 1000, blasThreads: 1))
        var configuration = APIConfiguration()
        if let maxSteps { configuration.maxSteps = maxSteps }
        return ImageAPI(scheduler: scheduler, configuration: configuration)
    }

    private struct Answer {
        var status: Int
        var body: String
        var param: String?
        var message: String
    }

    /// `POST /v1/jobs` with a JSON body, through the API's handler.
    private static func post(_ api: ImageAPI, _ fields: [String: Any]) async throws -> Answer {
        var fields = fields
        if fields["model"] == nil { fields["model"] = "tiny-class" }
        let body = try JSONSerialization.data(withJSONObject: fields)
        let request = HTTPRequest(
            method: .post, target: "/v1/jobs", path: "/v1/jobs", headers: ["Content-Type": "application/json"], body: Array(body))
        let response = await api.handler(request, RequestContext())
        guard case .bytes(let bytes) = response.body else { return Answer(status: response.status.code, body: "", message: "") }
        let error = (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])?["error"] as? [String: Any]
        return Answer(
            status: response.status.code, body: String(decoding: bytes, as: UTF8.self), param: error?["param"] as? String,
            message: error?["message"] as? String ?? "")
    }

    /// `enat generate` parsed and validated as on the command line; `error` is the message it prints.
    private static func cli(_ arguments: [String]) -> (command: GenerateCommand?, error: String?) {
        do {
            return (try GenerateCommand.parse(["--model", "unused", "-o", "/tmp/unused.png"] + arguments), nil)
        } catch {
            return (nil, GenerateCommand.message(for: error))
        }
    }

    private static func problem(_ body: () throws(ModelBundleError) -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return error.description
        }
    }
}
