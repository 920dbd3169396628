import Foundation
import LatchkeyCore

@testable import LatchkeyRunner

/// An in-memory server side of the runner protocol that records every call; behaves like the real one for trace offsets and checksums.
actor RecordingRunnerAPI: RunnerAPI {
    struct Patch: Equatable {
        var offset: Int
        var bytes: [UInt8]
    }

    struct Upload {
        var jobID: Int64
        var artifactType: String
        var expireIn: String?
        var data: Data
    }

    /// The server's copy of the trace.
    private(set) var trace: [UInt8] = []
    private(set) var patches: [Patch] = []
    private(set) var updates: [JobUpdate] = []
    private(set) var uploads: [Upload] = []
    private(set) var downloads: [(jobID: Int64, token: String)] = []
    /// Archives served by `GET /jobs/:id/artifacts`.
    var artifacts: [Int64: Data] = [:]
    /// Sent in `Job-Status` once the stored trace contains `marker`.
    var jobStatusRule: (marker: String, status: String)?
    /// Answered to every patch after the stored trace contains `marker` (403 for an erased job, say).
    var patchStatusRule: (marker: String, status: Int)?
    /// Flips a stored byte before the first final update, so its checksum does not match.
    var corruptOnFirstFinalUpdate = false
    var uploadStatus = 201
    /// Jobs handed out by `requestJob`, in order; then 204s.
    var pendingJobs: [JobPayload] = []
    private(set) var jobRequests = 0

    func setJobStatus(_ status: String, onceTraceContains marker: String) { jobStatusRule = (marker, status) }
    func setPatchStatus(_ status: Int, onceTraceContains marker: String) { patchStatusRule = (marker, status) }
    func setCorruptOnFirstFinalUpdate() { corruptOnFirstFinalUpdate = true }
    func setUploadStatus(_ status: Int) { uploadStatus = status }
    func serveArtifacts(_ data: Data, for jobID: Int64) { artifacts[jobID] = data }
    func enqueue(_ job: JobPayload) { pendingJobs.append(job) }
    /// Forgets the last `count` bytes, as if the server had lost a patch.
    func loseTail(_ count: Int) { trace.removeLast(min(count, trace.count)) }

    var finalUpdates: [JobUpdate] { updates.filter { $0.state != "running" } }
    var traceText: String { String(decoding: trace, as: UTF8.self) }

    func requestJob(runnerToken: String, systemID: String, lastUpdate: String?) async throws -> JobRequestResponse {
        jobRequests += 1
        if pendingJobs.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            return .noJob(lastUpdate: "update-\(jobRequests)")
        }
        return .job(pendingJobs.removeFirst())
    }

    func updateJob(id: Int64, update: JobUpdate) async throws -> JobUpdateResponse {
        updates.append(update)
        guard update.state != "running" else { return JobUpdateResponse(status: 200, jobStatus: currentJobStatus) }
        if corruptOnFirstFinalUpdate, !trace.isEmpty {
            corruptOnFirstFinalUpdate = false
            trace[0] ^= 0xFF
        }
        if let output = update.output, output.checksum != CRC32.checksum(trace) || output.bytesize != trace.count {
            return JobUpdateResponse(status: 412, jobStatus: nil)
        }
        return JobUpdateResponse(status: 200, jobStatus: nil)
    }

    private var currentJobStatus: String? {
        guard let rule = jobStatusRule, traceText.contains(rule.marker) else { return "running" }
        return rule.status
    }

    func patchTrace(id: Int64, jobToken: String, offset: Int, bytes: [UInt8]) async throws -> TracePatchResponse {
        patches.append(Patch(offset: offset, bytes: bytes))
        if let rule = patchStatusRule, traceText.contains(rule.marker) {
            return TracePatchResponse(status: rule.status, remoteSize: nil, jobStatus: nil)
        }
        // GitLab accepts a patch that starts at its current size, or a restart from 0.
        guard offset == trace.count || offset == 0 else {
            return TracePatchResponse(status: 416, remoteSize: trace.count, jobStatus: currentJobStatus)
        }
        if offset == 0 { trace.removeAll() }
        trace += bytes
        return TracePatchResponse(status: 202, remoteSize: trace.count, jobStatus: currentJobStatus)
    }

    func downloadArtifacts(jobID: Int64, jobToken: String, to destination: URL) async throws -> Int {
        downloads.append((jobID, jobToken))
        guard let data = artifacts[jobID] else { return 404 }
        try data.write(to: destination)
        return 200
    }

    func uploadArtifacts(jobID: Int64, jobToken: String, archive: URL, artifactType: String, artifactFormat: String, expireIn: String?) async throws
        -> ArtifactUploadResponse
    {
        uploads.append(Upload(jobID: jobID, artifactType: artifactType, expireIn: expireIn, data: try Data(contentsOf: archive)))
        return ArtifactUploadResponse(status: uploadStatus, message: uploadStatus == 413 ? "413 Request Entity Too Large" : "")
    }
}
