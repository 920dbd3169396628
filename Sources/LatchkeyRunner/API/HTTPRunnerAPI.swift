import AsyncHTTPClient
import Foundation
import LatchkeyCore
import NIOCore

/// The runner protocol over HTTP (GitLab API v4), with AsyncHTTPClient.
struct HTTPRunnerAPI: RunnerAPI {
    let baseURL: String
    let client: HTTPClient

    /// Longer than the server's long poll (about 30 s), so a held request is not cut short.
    static let longPollTimeout: TimeAmount = .seconds(60)
    static let requestTimeout: TimeAmount = .seconds(60)
    /// Artifacts can be large; the transfer, not the wait, is what takes time.
    static let transferTimeout: TimeAmount = .hours(3)

    init(url: String, client: HTTPClient) throws {
        var base = url.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        guard let parsed = URL(string: base), let scheme = parsed.scheme, ["http", "https"].contains(scheme.lowercased()), parsed.host != nil else {
            throw RunnerError.invalidURL(url)
        }
        self.baseURL = base
        self.client = client
    }

    func endpoint(_ path: String) -> String { baseURL + "/api/v4" + path }

    // MARK: Registration

    func register(_ request: RegistrationRequest) async throws -> RegistrationResponse {
        let response = try await send("POST", "/runners", json: request)
        switch response.status {
        case 201, 200: return try Self.decode(RegistrationResponse.self, from: response.body)
        case 403: throw RunnerError.registrationRefused
        default: throw RunnerError.unexpectedResponse(status: response.status, message: Self.message(response.body))
        }
    }

    func verify(token: String, systemID: String) async throws {
        let response = try await send("POST", "/runners/verify", json: ["token": token, "system_id": systemID])
        switch response.status {
        case 200, 201: return
        case 403: throw RunnerError.invalidRunnerToken
        default: throw RunnerError.unexpectedResponse(status: response.status, message: Self.message(response.body))
        }
    }

    func unregister(token: String) async throws {
        let response = try await send("DELETE", "/runners", json: ["token": token])
        switch response.status {
        case 204, 200: return
        case 403: throw RunnerError.invalidRunnerToken
        default: throw RunnerError.unexpectedResponse(status: response.status, message: Self.message(response.body))
        }
    }

    // MARK: Jobs

    func requestJob(runnerToken: String, systemID: String, lastUpdate: String?) async throws -> JobRequestResponse {
        let body = JobRequestBody(token: runnerToken, systemId: systemID, lastUpdate: lastUpdate, info: .current)
        let response = try await send("POST", "/jobs/request", json: body, timeout: Self.longPollTimeout)
        switch response.status {
        case 201: return .job(try Self.decode(JobPayload.self, from: response.body))
        case 204: return .noJob(lastUpdate: response.headers["x-gitlab-last-update"])
        case 403: return .forbidden
        default: return .unexpected(status: response.status)
        }
    }

    func updateJob(id: Int64, update: JobUpdate) async throws -> JobUpdateResponse {
        let response = try await send("PUT", "/jobs/\(id)", json: update, headers: [("JOB-TOKEN", update.token)])
        return JobUpdateResponse(status: response.status, jobStatus: response.headers["job-status"])
    }

    func patchTrace(id: Int64, jobToken: String, offset: Int, bytes: [UInt8]) async throws -> TracePatchResponse {
        var request = HTTPClientRequest(url: endpoint("/jobs/\(id)/trace"))
        request.method = .PATCH
        request.headers.add(name: "JOB-TOKEN", value: jobToken)
        request.headers.add(name: "Content-Range", value: "\(offset)-\(offset + bytes.count - 1)")
        request.headers.add(name: "Content-Type", value: "text/plain")
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let response = try await execute(request, timeout: Self.requestTimeout)
        return TracePatchResponse(
            status: response.status, remoteSize: TracePatchResponse.size(fromRange: response.headers["range"]), jobStatus: response.headers["job-status"])
    }

    func downloadArtifacts(jobID: Int64, jobToken: String, to destination: URL) async throws -> Int {
        var request = HTTPClientRequest(url: endpoint("/jobs/\(jobID)/artifacts"))
        request.method = .GET
        request.headers.add(name: "JOB-TOKEN", value: jobToken)
        let response = try await client.execute(request, timeout: Self.transferTimeout)
        guard response.status.code == 200 else {
            _ = try? await response.body.collect(upTo: 1 << 16)
            return Int(response.status.code)
        }
        try PrivateFile.write([], to: destination.path)
        let handle = try FileHandle(forWritingTo: destination)
        defer { try? handle.close() }
        for try await buffer in response.body {
            try handle.write(contentsOf: Data(buffer.readableBytesView))
        }
        return 200
    }

    func uploadArtifacts(jobID: Int64, jobToken: String, archive: URL, artifactType: String, artifactFormat: String, expireIn: String?) async throws
        -> ArtifactUploadResponse
    {
        var query = URLComponents()
        query.queryItems = [URLQueryItem(name: "artifact_format", value: artifactFormat), URLQueryItem(name: "artifact_type", value: artifactType)]
        if let expireIn { query.queryItems?.append(URLQueryItem(name: "expire_in", value: expireIn)) }
        let zip = artifactFormat == "zip"
        let body = try MultipartFileBody(
            fileURL: archive, fieldName: "file", filename: zip ? "artifacts.zip" : "\(artifactType).gz", contentType: zip ? "application/zip" : "application/gzip")
        var request = HTTPClientRequest(url: endpoint("/jobs/\(jobID)/artifacts") + "?" + (query.percentEncodedQuery ?? ""))
        request.method = .POST
        request.headers.add(name: "JOB-TOKEN", value: jobToken)
        request.headers.add(name: "Content-Type", value: body.contentType)
        request.body = .stream(body, length: .known(Int64(body.length)))
        let response = try await execute(request, timeout: Self.transferTimeout)
        return ArtifactUploadResponse(status: response.status, message: Self.message(response.body))
    }

    // MARK: Plumbing

    struct Response {
        var status: Int
        /// Lower-cased names; the first value of each.
        var headers: [String: String]
        var body: Data
    }

    private func send(_ method: String, _ path: String, json: some Encodable, headers: [(String, String)] = [], timeout: TimeAmount = requestTimeout) async throws
        -> Response
    {
        var request = HTTPClientRequest(url: endpoint(path))
        request.method = .init(rawValue: method)
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(try Self.encoder.encode(json))
        return try await execute(request, timeout: timeout)
    }

    private func execute(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> Response {
        let response = try await client.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 64 << 20)
        var headers: [String: String] = [:]
        for (name, value) in response.headers where headers[name.lowercased()] == nil {
            headers[name.lowercased()] = value
        }
        return Response(status: Int(response.status.code), headers: headers, body: Data(body.readableBytesView))
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()

    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: data)
    }

    /// GitLab's `{"message": ...}` or the raw body, shortened, for errors and traces.
    static func message(_ body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let message = object["message"] ?? object["error"] {
            return String(describing: message)
        }
        return String(decoding: body.prefix(300), as: UTF8.self)
    }
}

/// The body of `POST /runners`.
struct RegistrationRequest: Encodable {
    var token: String
    var description: String
    var tagList: [String]
    var runUntagged: Bool
    var info: RunnerInfoBody
}

/// The 201 body of `POST /runners`.
struct RegistrationResponse: Decodable {
    var id: Int64?
    var token: String
    var tokenExpiresAt: String?
}

/// The body of `POST /jobs/request`.
struct JobRequestBody: Encodable {
    var token: String
    var systemId: String
    var lastUpdate: String?
    var info: RunnerInfoBody
}

/// `info` in registration and job requests.
struct RunnerInfoBody: Encodable {
    var name = RunnerPlatform.name
    var version = RunnerPlatform.version
    var revision = RunnerPlatform.revision
    var platform = RunnerPlatform.platform
    var architecture = RunnerPlatform.architecture
    var executor = "shell"
    var shell = "sh"
    var features = Features()

    static var current: RunnerInfoBody { RunnerInfoBody() }

    /// What this runner supports, in GitLab Runner's feature names.
    struct Features: Encodable {
        var variables = true
        var artifacts = true
        var artifactsExclude = true
        var uploadMultipleArtifacts = true
        var refspecs = true
        var masking = true
        var rawVariables = true
        var multiBuildSteps = true
        var returnExitCode = true
        var traceReset = true
        var traceChecksum = true
        var traceSize = true
        var cancelable = true
        var cancelGracefully = true
        var image = false
        var services = false
        var cache = false
    }
}
