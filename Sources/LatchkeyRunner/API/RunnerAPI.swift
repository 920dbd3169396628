import Foundation
import LatchkeyCore

/// The runner protocol calls a runner makes once registered; `HTTPRunnerAPI` speaks them over HTTP, tests record them in memory.
protocol RunnerAPI: Sendable {
    /// `POST /jobs/request` (long poll).
    func requestJob(runnerToken: String, systemID: String, lastUpdate: String?) async throws -> JobRequestResponse
    /// `PUT /jobs/:id`.
    func updateJob(id: Int64, update: JobUpdate) async throws -> JobUpdateResponse
    /// `PATCH /jobs/:id/trace` with `Content-Range: offset-(offset+count-1)`.
    func patchTrace(id: Int64, jobToken: String, offset: Int, bytes: [UInt8]) async throws -> TracePatchResponse
    /// `GET /jobs/:id/artifacts`, the body streamed into `destination`; returns the status.
    func downloadArtifacts(jobID: Int64, jobToken: String, to destination: URL) async throws -> Int
    /// `POST /jobs/:id/artifacts`, the archive streamed from disk as the multipart part `file`.
    func uploadArtifacts(jobID: Int64, jobToken: String, archive: URL, artifactType: String, artifactFormat: String, expireIn: String?) async throws
        -> ArtifactUploadResponse
}

/// The answer to a job request.
enum JobRequestResponse: Sendable, Equatable {
    case job(JobPayload)
    /// 204, with the `X-GitLab-Last-Update` value to send back next time.
    case noJob(lastUpdate: String?)
    /// 403: the runner token is not valid.
    case forbidden
    case unexpected(status: Int)
}

/// The answer to `PUT /jobs/:id`.
struct JobUpdateResponse: Sendable, Equatable {
    var status: Int
    /// The `Job-Status` header.
    var jobStatus: String?
}

/// The answer to `PATCH /jobs/:id/trace`.
struct TracePatchResponse: Sendable, Equatable {
    var status: Int
    /// The server's trace size, from `Range: 0-<size>`.
    var remoteSize: Int?
    /// The `Job-Status` header.
    var jobStatus: String?
}

/// The answer to an artifacts upload.
struct ArtifactUploadResponse: Sendable, Equatable {
    var status: Int
    /// The server's message, for the trace, when the upload failed.
    var message: String
}

extension TracePatchResponse {
    /// Parses `0-<size>` (GitLab's `Range` response header).
    static func size(fromRange header: String?) -> Int? {
        guard let header, let dash = header.lastIndex(of: "-") else { return nil }
        return Int(header[header.index(after: dash)...].trimmingCharacters(in: .whitespaces))
    }
}
