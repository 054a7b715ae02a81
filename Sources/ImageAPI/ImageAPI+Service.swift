import ENAT
import Foundation
import HTTPServer
import ModelBundle
import Scheduler
import Tensors

/// Health, readiness, metrics and the model list.
extension ImageAPI {
    /// Alive: the process answers. Says nothing about models or load (that is `/readyz`).
    func health() -> HTTPResponse {
        Self.json(["status": "ok"])
    }

    /// Ready to take generations: models loaded, not draining, queue not full. 503 with the reason otherwise.
    func readiness() -> HTTPResponse {
        if let reason = notReadyReason {
            return Self.json(
                ["status": "unavailable", "reason": reason], status: .serviceUnavailable, headers: [("Retry-After", "1")])
        }
        return Self.json(["status": "ready"])
    }

    func metricsPage() -> HTTPResponse {
        let text = PrometheusText.render(
            scheduler: scheduler.metrics, http: metrics, ready: notReadyReason == nil, models: scheduler.models)
        return HTTPResponse(status: .ok, headers: ["Content-Type": PrometheusText.contentType], text: text)
    }

    func modelList() -> HTTPResponse {
        Self.json(ModelListBody(data: scheduler.models.map(Self.describe)))
    }

    func model(_ id: String) throws(APIError) -> HTTPResponse {
        guard let model = loadedModel(id) else {
            throw APIError.notFound("The model '\(id)' does not exist.", param: "model", code: "model_not_found")
        }
        return Self.json(Self.describe(model))
    }

    private static let startTime = Int(Date().timeIntervalSince1970)

    static func describe(_ model: LoadedModel) -> ModelListBody.Model {
        let settings = model.defaultSettings
        return ModelListBody.Model(
            id: model.id, created: startTime, kind: model.kind.rawValue, description: model.configuration.description,
            resolution: model.imageSize, size: "\(model.imageSize)x\(model.imageSize)",
            classes: model.kind == .classConditional ? model.classNames : nil,
            defaultSettings: .init(
                steps: settings.steps, guidanceScale: settings.guidanceScale, maskTemperature: settings.maskTemperature,
                sampleTemperature: settings.sampleTemperature),
            precision: model.precision.rawValue, computeBackend: model.computeBackend, computeKernel: model.computeKernel,
            canEdit: model.canEdit)
    }
}
