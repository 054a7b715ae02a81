import HTTPServer

/// What `POST /v1/jobs` takes: the job's parameters and, for an edit, the image, the mask and
/// `strength` as `POST /v1/images/edits` takes them. The body is JSON (files as base64 strings
/// or `data:` URLs) or a `multipart/form-data` form (files as parts, the rest as fields).
struct JobSubmission: Sendable {
    var body: JobBody
    /// nil for a plain generation.
    var edit: EditInputs?

    init(_ request: HTTPRequest, configuration: APIConfiguration) throws(APIError) {
        let fields: JSONFields
        if FormFields.isForm(request) {
            let form = try FormFields(
                request, limits: configuration.formLimits, files: EditInputs.formFiles, allowedKeys: JobBody.allowedKeys.union(["strength"]))
            fields = form.fields
            edit = try EditInputs.from(uploads: form.uploads, strength: try fields.double("strength"))
        } else {
            fields = try JSON.requestFields(request, allowedKeys: JobBody.allowedKeys.union(EditInputs.jsonKeys))
            edit = try EditInputs.from(fields: fields, maxBytes: configuration.maxUploadBytes)
        }
        body = try JobBody(fields: fields)
    }
}
