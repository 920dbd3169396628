import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStore
import Logging
import ServiceLifecycle

/// The runner's side of jobs: `POST /jobs/request`, `PUT /jobs/:id`, `PATCH /jobs/:id/trace`, artifacts up and down.
struct RunnerJobsController {
    let environment: ServerEnvironment
    let queue: JobQueue
    let longPoll: Duration
    /// Signs the ID tokens jobs ask for (`id_tokens:`).
    var idTokens: IDTokenKeys? = nil

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("jobs/request", use: request)
        routes.put("jobs/:job_id", use: update)
        routes.patch("jobs/:job_id/trace", use: appendTrace)
        routes.post("jobs/:job_id/artifacts", use: uploadArtifacts)
        routes.get("jobs/:job_id/artifacts", use: downloadArtifacts)
        return routes
    }

    private static let jobStatus = HTTPField.Name("Job-Status")!
    private static let lastUpdate = HTTPField.Name("X-GitLab-Last-Update")!
    private static let traceInterval = HTTPField.Name("X-GitLab-Trace-Update-Interval")!
    private static let range = HTTPField.Name("Range")!

    // MARK: Asking for a job

    @Sendable func request(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let runnerToken = try parameters.requireString("token")
        guard let runner = try await Authenticator(environment: environment).runner(token: runnerToken) else { throw APIError.forbidden }
        try await environment.store.runners.touch(id: runner.id)
        let deadline = ContinuousClock.now + longPoll
        // A runner that left its long poll (restarted, gave up on the request) must not be handed a job: nobody would run it.
        let departure = await context.peerDeparture()
        while departure?.hasLeft != true {
            if let response = try await claimNext(for: runner, token: runnerToken, departure: departure) { return response }
            let remaining = deadline - ContinuousClock.now
            // A server shutting down answers at once, so it never waits out a long poll.
            guard remaining > .zero, !Task.isShuttingDownGracefully else { break }
            // Woken when this process or another instance (PostgreSQL NOTIFY) may have queued a job; no polling of the pending set.
            await queue.wait(timeout: min(remaining, JobQueue.safetyInterval), orUntil: departure)
        }
        var headers: HTTPFields = [:]
        headers[Self.lastUpdate] = String(Int(Date().timeIntervalSince1970))
        return Response(status: .noContent, headers: headers)
    }

    /// Claims the oldest pending job this runner may run; nil when there is none.
    ///
    /// The choice is one statement over every pending job (`JobRepository.claimNext`): jobs no runner can take never hide later ones.
    /// A job claimed while its runner was leaving goes back to the queue before its token was ever sent.
    private func claimNext(for runner: Runner, token runnerToken: String, departure: PeerDeparture?) async throws -> Response? {
        while true {
            let started = ContinuousClock.now
            let (nonce, digest) = environment.jobTokenClaim()
            guard let claimed = try await environment.store.jobs.claimNext(runner: runner, tokenDigest: digest, tokenNonce: nonce) else {
                ServerMetrics.claimDuration(ContinuousClock.now - started, claimed: false)
                return nil
            }
            guard let pipeline = try await environment.store.pipelines.find(id: claimed.pipelineID),
                let project = try await environment.store.projects.find(id: claimed.projectID)
            else {
                // Deleted under us: the job must not stay running with a live token.
                _ = try await environment.store.jobs.finish(jobID: claimed.id, status: .failed, failureReason: "runner_system_failure", exitCode: nil)
                continue
            }
            let payload: JobPayload
            do {
                // A JWT names the job, so it is signed once the claim has chosen one; a job that ended meanwhile gets none.
                guard let token = try await environment.issueJobToken(for: claimed, project: project, nonce: nonce) else { continue }
                var users = UserCache(store: environment.store)
                let user = try await users.user(claimed.userID)
                payload = try await JobPayloadBuilder(environment: environment, idTokens: idTokens).payload(
                    job: claimed, token: token, pipeline: pipeline, project: project, user: user)
                // What this job's trace requests mask, read now (one query) instead of on every PATCH.
                environment.traceMaskingRules.prime(
                    jobID: claimed.id, secrets: try await environment.traceSecrets(for: claimed, token: payload.token, runnerToken: runnerToken))
            } catch {
                // Claimed but never sent: fail it now, so it neither stays running with a live token until the reaper nor
                // comes back to fail the same way in a loop.
                environment.logger.error("cannot build the payload of a claimed job", metadata: ["job": "\(claimed.id)", "error.type": "\(type(of: error))"])
                _ = try? await environment.store.jobs.finish(jobID: claimed.id, status: .failed, failureReason: "runner_system_failure", exitCode: nil)
                throw error
            }
            await environment.authorizer.announceJobTokenPermissions(claimed, project: project)
            if departure?.hasLeft == true {
                if try await environment.store.jobs.giveBack(jobID: claimed.id, tokenNonce: nonce) { await queue.notify() }
                return nil
            }
            environment.logger.info("job started", metadata: ["job": "\(claimed.id)", "runner": "\(runner.id)", "project": "\(project.fullPath)"])
            ServerMetrics.claimDuration(ContinuousClock.now - started, claimed: true)
            return try JSON.response(payload, status: .created)
        }
    }

    // MARK: Job token of a running job

    /// The job named by the route, if `token` is its live job token.
    private func runningJob(_ context: AppRequestContext, token: String?) async throws -> Job {
        guard let token, let presented = await environment.presentedJobToken(token) else { throw APIError.forbidden }
        guard let id = context.parameters.get("job_id", as: Int64.self), presented.jobID.map({ $0 == id }) ?? true,
            let job = try await environment.store.jobs.find(tokenDigest: presented.digest), job.id == id
        else { throw APIError.forbidden }
        return job
    }

    private func statusHeaders(_ job: Job) -> HTTPFields {
        var headers: HTTPFields = [:]
        headers[Self.jobStatus] = job.status.rawValue
        headers[Self.traceInterval] = "3"
        return headers
    }

    // MARK: Updates

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let token = try request.headers[HTTPField.Name("JOB-TOKEN")!] ?? parameters.string("token")
        let job = try await runningJob(context, token: token)
        let state = try parameters.requireString("state")
        switch state {
        case "running", "pending":
            try await environment.store.jobs.touch(jobID: job.id)
            return Response(status: .ok, headers: statusHeaders(job))
        case "success", "failed":
            guard var trace = try await environment.store.jobs.traceState(jobID: job.id) else { throw APIError.forbidden }
            if case .object(let output)? = parameters["output"] {
                let checksum: String? = if case .string(let text)? = output["checksum"] { text } else { nil }
                let bytesize: Double? = if case .number(let number)? = output["bytesize"] { number } else { nil }
                if checksum.map({ $0 != CRC32.format(trace.crc) }) ?? false || bytesize.map({ $0 != Double(trace.received) }) ?? false {
                    // GitLab logs a mismatch and still ends the job with a 200: a 412 sends the runner into a resend loop.
                    environment.logger.warning(
                        "trace checksum mismatch",
                        metadata: [
                            "job": "\(job.id)", "bytesize": "\(trace.received)", "checksum": "\(CRC32.format(trace.crc))",
                            "runner_bytesize": "\(bytesize.map { String($0) } ?? "none")", "runner_checksum": "\(checksum?.prefix(32) ?? "none")",
                        ])
                }
            }
            // Flush what the server-side masker still held, through a masker that knows the end of the stream.
            var masker = SecretMasker(rules: try await environment.traceRules(for: job, token: token), resumingFrom: trace.held)
            let tail = masker.finish()
            try environment.traces.append(jobID: job.id, tail)
            // The runner's last byte is in: refusals still queued go at the end.
            environment.traces.flushNotices(jobID: job.id, force: true)
            trace.held = []
            _ = try await environment.store.jobs.advanceTrace(jobID: job.id, expected: trace.received, to: trace)
            let reason = try parameters.string("failure_reason").flatMap { Self.failureReasons.contains($0) ? $0 : "unknown_failure" } ?? "script_failure"
            let exitCode = try parameters.int("exit_code").map { Int($0) }
            let finished = try await environment.store.jobs.finish(jobID: job.id, status: state == "success" ? .success : .failed, failureReason: reason, exitCode: exitCode)
            environment.traceMaskingRules.forget(jobID: job.id)
            await queue.notify()
            environment.logger.info("job finished", metadata: ["job": "\(job.id)", "status": "\(finished?.status.rawValue ?? "unchanged")"])
            return Response(status: .ok, headers: statusHeaders(finished ?? job))
        default:
            throw APIError(.badRequest, error: "state does not have a valid value")
        }
    }

    static let failureReasons: Set<String> = [
        "unknown_failure", "script_failure", "api_failure", "stuck_or_timeout_failure", "runner_system_failure", "missing_dependency_failure",
        "runner_unsupported", "job_execution_timeout", "archived_failure", "unmet_prerequisites", "data_integrity_failure",
    ]

    @Sendable func appendTrace(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = request.headers[HTTPField.Name("JOB-TOKEN")!] ?? QueryString(request).get("token")
        let job = try await runningJob(context, token: token)
        guard let rangeText = request.headers[.contentRange] else { throw APIError(.badRequest, message: "400 Bad request - Missing header Content-Range") }
        let start: Int64
        do {
            start = try ContentRange.parse(rangeText).start
        } catch {
            throw APIError(.badRequest, message: "400 Bad request - Content-Range is invalid")
        }
        guard let state = try await environment.store.jobs.traceState(jobID: job.id) else { throw APIError.forbidden }
        var headers = statusHeaders(job)
        guard start == state.received else {
            headers[Self.range] = "0-\(state.received)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
        let body = try await request.body.collect(upTo: 2 << 20)
        let bytes = Array(body.readableBytesView)
        // The runner masks first; the server masks again so a runner that masks nothing still leaks nothing into stored traces.
        // Resumed from the whole masker state (held bytes, an open token run, the automaton), not just the held bytes.
        var masker = SecretMasker(rules: try await environment.traceRules(for: job, token: token), resumingFrom: state.held)
        let masked = masker.mask(bytes)
        let next = TraceState(received: state.received + Int64(bytes.count), crc: CRC32.update(state.crc, bytes), held: masker.resumeState, exitCode: nil)
        // The bytes are on disk before the offset that acknowledges them is committed (taken back if another PATCH won).
        let store = environment.store, jobID = job.id, expected = state.received
        guard try await environment.traces.append(jobID: job.id, masked, thenCommit: { try await store.jobs.advanceTrace(jobID: jobID, expected: expected, to: next) })
        else {
            headers[Self.range] = "0-\(try await environment.store.jobs.traceState(jobID: job.id)?.received ?? 0)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
        headers[Self.range] = "0-\(next.received)"
        return Response(status: .accepted, headers: headers)
    }

    // MARK: Artifacts

    @Sendable func uploadArtifacts(_ request: Request, context: AppRequestContext) async throws -> Response {
        let job = try await runningJob(context, token: request.headers[HTTPField.Name("JOB-TOKEN")!] ?? QueryString(request).get("token"))
        let query = QueryString(request)
        let type = query.get("artifact_type") ?? "archive"
        let format = query.get("artifact_format") ?? "zip"
        // The archive is a zip; each report type has the one format gitlab-runner uploads it in (GitLab's `REPORT_TYPES`).
        guard let expectedFormat = type == "archive" ? "zip" : ArtifactReport.formats[type]?.format else {
            throw APIError(.badRequest, error: "artifact_type does not have a valid value")
        }
        guard ["zip", "gzip", "raw"].contains(format) else { throw APIError(.badRequest, error: "artifact_format does not have a valid value") }
        guard format == expectedFormat else { throw APIError(.badRequest, message: "Validation failed: Invalid file format with specified file type") }
        var expireAt: Date? = Date().addingTimeInterval(30 * 86400)
        if let expireIn = query.get("expire_in"), !expireIn.isEmpty {
            switch CIDuration.expiry(expireIn) {
            case .never?: expireAt = nil
            case .after(let seconds)?: expireAt = Date().addingTimeInterval(Double(seconds))
            case nil: throw APIError.invalid("expire_in")
            }
        }
        guard let contentType = request.headers[.contentType], let boundary = MultipartForm.boundary(contentType: contentType) else {
            throw APIError(.badRequest, message: "400 Bad request - expected multipart/form-data with a file")
        }
        if let length = request.headers[.contentLength].flatMap(Int64.init), length > environment.settings.maxArtifactBytes + 64 * 1024 {
            throw APIError(.contentTooLarge, message: "413 Request Entity Too Large")
        }
        let temporary = environment.artifacts.temporaryFile()
        defer { try? FileManager.default.removeItem(at: temporary) }
        let received: MultipartFileReceiver.Received
        do {
            received = try await MultipartFileReceiver(boundary: boundary, limit: environment.settings.maxArtifactBytes).receive(request.body, field: "file", to: temporary)
        } catch MultipartFileReceiver.Failure.tooLarge {
            throw APIError(.contentTooLarge, message: "413 Request Entity Too Large")
        } catch MultipartFileReceiver.Failure.malformed {
            throw APIError(.badRequest, message: "400 Bad request - the multipart body is malformed")
        } catch is MultipartFileReceiver.Failure {
            throw APIError(.badRequest, message: "400 Bad request - file is missing")
        }
        // A dotenv report is read before anything is kept: a refused one leaves no artifact and no variables (GitLab's CreateService).
        let dotenv = type == "dotenv" ? try Self.dotenvVariables(temporary, size: received.size) : nil
        let fallback = type == "archive" ? "artifacts.zip" : type + (format == "gzip" ? ".gz" : format == "zip" ? ".zip" : "")
        let filename = Self.safeFilename(received.filename ?? fallback, fallback: fallback)
        // The upload's metadata (its file name and parameters): a live token there is revoked and the archive not kept. The
        // credential parameters are not metadata: a client that authenticates with `?token=` must not revoke itself.
        if let project = try await environment.store.projects.find(id: job.projectID) {
            let credentials: Set<String> = ["token", "job_token", "private_token"]
            let parameters = request.uri.queryParameters.filter { !credentials.contains(String($0.key)) }.map { "\($0.key)=\($0.value)" }
            try await LeakedTokenGuard(environment: environment).refuseLeaks(
                in: [received.filename, parameters.joined(separator: "&")], surface: .artifact, project: project, authorID: job.userID)
        }
        let stored = try environment.artifacts.commit(temporary, jobID: job.id, name: filename)
        if let replaced = try await environment.store.artifacts.save(
            jobID: job.id, projectID: job.projectID, fileType: type, fileFormat: format, filename: filename, size: received.size, storagePath: stored, expireAt: expireAt,
            dotenv: dotenv)
        {
            environment.artifacts.remove(replaced)
        }
        return try JSON.response(["id": job.id], status: .created)
    }

    static func safeFilename(_ name: String, fallback: String = "artifacts.zip") -> String {
        let base = (name as NSString).lastPathComponent
        let cleaned = String(base.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
        return cleaned.isEmpty || cleaned.hasPrefix(".") ? fallback : String(cleaned.prefix(100))
    }

    /// The variables of an uploaded dotenv report; a report GitLab would refuse answers 400 with GitLab's message.
    static func dotenvVariables(_ file: URL, size: Int64) throws -> [CIVariable] {
        // The size is checked before the file is read, so a huge upload is never loaded into memory.
        guard size < Int64(DotenvReport.sizeLimit) else { throw APIError(.badRequest, message: DotenvReport.Failure.tooBig.message) }
        let bytes = [UInt8](try Data(contentsOf: file))
        do {
            return try DotenvReport.read(gzip: bytes)
        } catch {
            throw APIError(.badRequest, message: error.message)
        }
    }

    /// `GET /jobs/:id/artifacts`: a running job downloads another job's archive with its own token (dependencies).
    @Sendable func downloadArtifacts(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = request.headers[HTTPField.Name("JOB-TOKEN")!] ?? QueryString(request).get("job_token") ?? QueryString(request).get("token")
        guard let token, let actor = try await Authenticator(environment: environment).acceptedJob(token) else { throw APIError.unauthorized }
        guard let id = context.parameters.get("job_id", as: Int64.self), let owner = try await environment.store.jobs.find(id: id) else {
            throw APIError.notFound("Job")
        }
        let facts = try await environment.authorizer.project(String(owner.projectID), for: .job(actor))
        try await environment.authorizer.authorizeDependencyArtifacts(actor, of: owner, facts)
        guard let archive = try await environment.store.artifacts.archive(jobID: owner.id) else { throw APIError.notFound("Artifact") }
        return try await ArtifactResponse.file(environment.artifacts.url(archive.storagePath), filename: archive.filename, request: request, context: context)
    }
}
