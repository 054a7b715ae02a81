import Foundation
import HTTPServer

/// How a job is answered: one PNG when it is done, or a progressive stream.
enum StreamFormat: String, Sendable, CaseIterable {
    case png, multipart, sse, ndjson

    /// `?stream=` wins; otherwise the first `Accept` media type we recognise (in the client's
    /// order, ignoring q-values of 0), where `application/json` means "no image, the job's JSON"
    /// (nil); otherwise `fallback`. A `?stream=` value we do not know is a 400.
    static func negotiate(_ request: HTTPRequest, fallback: StreamFormat?) throws(APIError) -> StreamFormat? {
        if let value = request.queryValue("stream") {
            guard let format = StreamFormat(rawValue: value.lowercased()) else {
                throw APIError.invalid("stream", "'stream' must be one of \(allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            return format
        }
        for mediaType in acceptedMediaTypes(request.headers) {
            switch mediaType {
            case "multipart/x-mixed-replace": return .multipart
            case "text/event-stream": return .sse
            case "application/x-ndjson", "application/jsonl", "application/ndjson": return .ndjson
            case "image/png": return .png
            case "application/json": return nil
            default: continue
            }
        }
        return fallback
    }

    /// The media types of `Accept`, lower-cased, without parameters, those with `q=0` dropped.
    static func acceptedMediaTypes(_ headers: HTTPHeaders) -> [String] {
        headers.tokens(for: "Accept").compactMap { element in
            let pieces = element.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let type = pieces.first?.lowercased(), !type.isEmpty else { return nil }
            let refused = pieces.dropFirst().contains { parameter in
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                return pair.count == 2 && pair[0] == "q" && Double(pair[1]) == 0
            }
            return refused ? nil : type
        }
    }
}
