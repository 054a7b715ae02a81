import ENAT
import HTTPServer
import ModelBundle
import Scheduler
import XCTest

@testable import ImageAPI

final class GenerationParametersTests: XCTestCase {
    private static let model = try! TestModels.classModel()

    private func resolve(_ parameters: GenerationParameters) throws -> GenerationParameters.Resolved {
        try parameters.resolve(models: [Self.model], configuration: APIConfiguration())
    }

    private func param(_ parameters: GenerationParameters) -> String? {
        do {
            _ = try resolve(parameters)
            return "(accepted)"
        } catch let error as APIError {
            XCTAssertEqual(error.status.code, 400)
            return error.param
        } catch {
            return "\(error)"
        }
    }

    func testClassNamesSynonymsNumbersAndLabels() throws {
        XCTAssertEqual(try resolve(.init(text: ("blue square", "prompt"))).condition, .classLabel(1))
        XCTAssertEqual(try resolve(.init(text: ("  Red Disc ", "class"))).condition, .classLabel(0))
        XCTAssertEqual(try resolve(.init(text: ("2", "prompt"))).condition, .classLabel(2))
        XCTAssertEqual(try resolve(.init(sampling: .init(classLabel: 1))).condition, .classLabel(1))
    }

    func testSettingsOverrideTheModelDefaults() throws {
        let resolved = try resolve(
            .init(
                text: ("blue square", "prompt"),
                sampling: .init(seed: 9, steps: 2, guidanceScale: 0, maskTemperature: 1, sampleTemperature: 3, preview: "Mosaic")))
        XCTAssertEqual(resolved.settings.steps, 2)
        XCTAssertEqual(resolved.settings.guidanceScale, 0)
        XCTAssertEqual(resolved.settings.sampleTemperature, 3)
        XCTAssertEqual(resolved.preview, .mosaic)
        XCTAssertEqual(resolved.seed, 9)
        let request = resolved.request(index: 2, preview: .none, previewSteps: nil, deadline: .now)
        XCTAssertEqual(request.seed, 11, "image i of n uses seed + i")
        XCTAssertEqual(try resolve(.init(text: ("blue square", "prompt"))).settings.steps, 4, "model default")
    }

    func testValidationNamesTheParameter() {
        XCTAssertEqual(param(.init(model: "gpt-image-1", text: ("x", "prompt"))), "model")
        XCTAssertEqual(param(.init(text: ("purple hexagon", "prompt"))), "prompt")
        XCTAssertEqual(param(.init(text: ("purple hexagon", "class"))), "class")
        XCTAssertEqual(param(.init(sampling: .init(classLabel: 3))), "class_label")
        XCTAssertEqual(param(.init(sampling: .init(classLabel: -1))), "class_label")
        XCTAssertEqual(param(.init()), "prompt")
        XCTAssertEqual(param(.init(sampling: .init(classLabel: 0, steps: 0))), "steps")
        XCTAssertEqual(param(.init(sampling: .init(classLabel: 0, steps: 65))), "steps")
        XCTAssertEqual(param(.init(sampling: .init(classLabel: 0, guidanceScale: .nan))), "guidance_scale")
        XCTAssertEqual(param(.init(sampling: .init(classLabel: 0, maskTemperature: -1))), "mask_temperature")
        XCTAssertEqual(param(.init(sampling: .init(classLabel: 0, sampleTemperature: .infinity))), "sample_temperature")
        XCTAssertEqual(param(.init(sampling: .init(classLabel: 0, preview: "sketch"))), "preview")
        XCTAssertEqual(param(.init(text: (String(repeating: "a", count: 1001), "prompt"))), "prompt")
    }

    func testPreviewStepsAreZeroBasedAndBelowSteps() throws {
        var parameters = GenerationParameters(sampling: .init(classLabel: 0, steps: 4))
        parameters.previewSteps = [0, 3, 3]
        XCTAssertEqual(try resolve(parameters).previewSteps, [0, 3])
        parameters.previewSteps = [4]
        XCTAssertEqual(param(parameters), "preview_steps")
        parameters.previewSteps = [-1]
        XCTAssertEqual(param(parameters), "preview_steps")
        XCTAssertNil(try resolve(.init(sampling: .init(classLabel: 0))).previewSteps, "every step when absent")

        let query = try JobBody(query: [("class", "red circle"), ("preview_steps", "0, 2")])
        XCTAssertEqual(query.previewSteps, [0, 2])
        XCTAssertThrowsError(try JobBody(query: [("preview_steps", "0,x")])) {
            XCTAssertEqual(($0 as? APIError)?.param, "preview_steps")
        }
    }

    func testJobBodyTakesOneTextField() {
        var body = JobBody()
        body.prompt = "a"
        body.caption = "b"
        XCTAssertThrowsError(try GenerationParameters(body)) { XCTAssertEqual(($0 as? APIError)?.param, "caption") }
    }

    func testPartialImageStepsAreSpreadAndNeverTheLast() {
        XCTAssertEqual(ImageAPI.partialImageSteps(count: 2, steps: 8), [2, 4])
        XCTAssertEqual(ImageAPI.partialImageSteps(count: 3, steps: 8), [1, 3, 5])
        XCTAssertEqual(ImageAPI.partialImageSteps(count: 1, steps: 4), [1])
        XCTAssertEqual(ImageAPI.partialImageSteps(count: 3, steps: 2), [0])
        XCTAssertEqual(ImageAPI.partialImageSteps(count: 0, steps: 8), [])
        XCTAssertEqual(ImageAPI.partialImageSteps(count: 2, steps: 1), [])
    }

    private static let captionModel = try! TestModels.captionModel()

    /// With a class model and a caption model loaded and no `model`, as the default server.
    private func resolveBoth(_ parameters: GenerationParameters) throws -> GenerationParameters.Resolved {
        try parameters.resolve(models: [Self.model, Self.captionModel], configuration: APIConfiguration())
    }

    private func errorOf(_ parameters: GenerationParameters) -> APIError? {
        do {
            _ = try resolveBoth(parameters)
            return nil
        } catch {
            return error as? APIError
        }
    }

    func testClassNeverFallsThroughToTheCaptionModel() throws {
        let typo = try XCTUnwrap(errorOf(.init(text: ("red circel", "class"))))
        XCTAssertEqual(typo.status.code, 400)
        XCTAssertEqual(typo.code, "unknown_class")
        XCTAssertEqual(typo.param, "class")
        XCTAssertTrue(typo.message.contains("did you mean 'red circle'?"), typo.message)
        let number = try XCTUnwrap(errorOf(.init(text: ("12", "class"))))
        XCTAssertEqual(number.code, "unknown_class")
        XCTAssertFalse(number.message.contains("did you mean"), number.message)
        XCTAssertEqual(errorOf(.init(text: ("goldfish", "class")))?.code, "unknown_class")
        XCTAssertEqual(try resolveBoth(.init(text: ("Blue Square", "class"))).model.id, "tiny-class")
        XCTAssertEqual(try resolveBoth(.init(sampling: .init(classLabel: 2))).model.id, "tiny-class")
        // A class sent to a caption model by name, and a caption to a class model.
        XCTAssertEqual(errorOf(.init(model: "tiny-caption", text: ("blue square", "class")))?.param, "class")
        XCTAssertEqual(errorOf(.init(model: "tiny-caption", sampling: .init(classLabel: 1)))?.param, "class_label")
        XCTAssertEqual(errorOf(.init(model: "tiny-class", text: ("a blue square", "caption")))?.param, "caption")
        // No class model at all.
        XCTAssertThrowsError(
            try GenerationParameters(text: ("blue square", "class")).resolve(models: [Self.captionModel], configuration: APIConfiguration())
        ) {
            XCTAssertEqual(($0 as? APIError)?.code, "no_class_model")
        }
    }

    func testPromptPicksAModelByTheDocumentedRule() throws {
        XCTAssertEqual(try resolveBoth(.init(text: ("blue square", "prompt"))).model.id, "tiny-class", "a known class name")
        XCTAssertEqual(try resolveBoth(.init(text: ("1", "prompt"))).model.id, "tiny-class", "a class number")
        XCTAssertEqual(try resolveBoth(.init(text: ("a blue square", "prompt"))).model.id, "tiny-caption", "anything else: a caption")
        XCTAssertEqual(try resolveBoth(.init(text: ("a blue square", "caption"))).model.id, "tiny-caption")
    }

    func testRandomSeedsFitInADouble() throws {
        for _ in 0..<200 {
            let seed = try resolve(.init(text: ("blue square", "prompt"))).seed
            XCTAssertLessThan(seed, 1 << 53)
        }
        XCTAssertEqual(RandomSeed.bound, 9_007_199_254_740_992)
        let json = try JobBody(fields: JSONFields(parsing: Array(#"{"class": "blue square", "seed": -1}"#.utf8), allowedKeys: JobBody.allowedKeys))
        XCTAssertNil(json.sampling.seed, "-1 means random")
        XCTAssertNil(try JobBody(query: [("class", "blue square"), ("seed", "-1")]).sampling.seed)
        XCTAssertEqual(try JobBody(query: [("seed", "7")]).sampling.seed, 7)
        XCTAssertThrowsError(try JobBody(fields: JSONFields(parsing: Array(#"{"seed": -2}"#.utf8), allowedKeys: JobBody.allowedKeys)))
    }
}
