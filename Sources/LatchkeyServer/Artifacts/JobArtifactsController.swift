import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// Job artifacts for API clients and job tokens: the archive or one file of it, by job id or by the latest successful job on a ref.
struct JobArtifactsController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        // A catch-all: ref names may hold `/`, raw (python-gitlab) or `%2F`-encoded (curl recipes).
        routes.get("projects/:id/jobs/artifacts/**", use: byRef)
        routes.get("projects/:id/jobs/:job_id/artifacts", use: archive)
        routes.get("projects/:id/jobs/:job_id/artifacts/**", use: file)
        return routes
    }

    // GitLab answers a missing job with Rails' RecordNotFound text and a missing archive with `not_found!`.
    static let jobNotFound = APIError(.notFound, message: "404 Not found")
    static let fileNotFound = APIError(.notFound, message: "404 Not Found")

    /// `.../jobs/artifacts/:ref_name/download` and `.../jobs/artifacts/:ref_name/raw/*artifact_path`.
    @Sendable func byRef(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .readJobArtifacts, actor: context.actor)
        let rest = context.parameters.get(String(Parameters.recursiveCaptureKey)) ?? ""
        guard let jobName = QueryString(request).get("job"), !jobName.isEmpty else { throw APIError.missing("job") }
        if rest.hasSuffix("/download"), let ref = Self.decode(String(rest.dropLast("/download".count))), !ref.isEmpty {
            let job = try await latestSuccessfulJob(facts.project, ref: ref, name: jobName)
            return try await sendArchive(of: job, request: request, context: context)
        }
        // `:ref_name` may itself contain `/raw/`; like Grape's greedy match, prefer the last split, but take the first ref that has the job.
        let splits = rest.ranges(of: "/raw/").reversed().map { (String(rest[..<$0.lowerBound]), String(rest[$0.upperBound...])) }
        guard !splits.isEmpty else { throw APIError.routeNotFound }
        for (index, split) in splits.enumerated() {
            guard let ref = Self.decode(split.0), !ref.isEmpty, let path = Self.decode(split.1) else { continue }
            let job: Job
            do {
                job = try await latestSuccessfulJob(facts.project, ref: ref, name: jobName)
            } catch let error as APIError where index < splits.count - 1 && error.status == .notFound {
                continue
            }
            return try await sendEntry(of: job, path: path)
        }
        throw Self.jobNotFound
    }

    /// `GET /projects/:id/jobs/:job_id/artifacts`.
    @Sendable func archive(_ request: Request, context: AppRequestContext) async throws -> Response {
        let job = try await job(context)
        return try await sendArchive(of: job, request: request, context: context)
    }

    /// `GET /projects/:id/jobs/:job_id/artifacts/*artifact_path`.
    @Sendable func file(_ request: Request, context: AppRequestContext) async throws -> Response {
        let job = try await job(context)
        guard let path = Self.decode(context.parameters.get(String(Parameters.recursiveCaptureKey)) ?? "") else { throw APIError(.badRequest, message: "400 Bad request") }
        return try await sendEntry(of: job, path: path)
    }

    private func job(_ context: AppRequestContext) async throws -> Job {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .readJobArtifacts, actor: context.actor)
        guard let id = context.parameters.get("job_id", as: Int64.self) else { throw APIError.invalid("job_id") }
        guard let job = try await environment.store.jobs.find(id: id), job.projectID == facts.project.id else { throw Self.jobNotFound }
        return job
    }

    /// The job called `name` in the newest successful pipeline for `ref` (GitLab's `latest_successful_build_for_ref!`), if it kept artifacts.
    private func latestSuccessfulJob(_ project: Project, ref: String, name: String) async throws -> Job {
        guard let pipeline = try await environment.store.pipelines.latest(projectID: project.id, ref: ref, status: .success) else { throw Self.jobNotFound }
        let candidates = try await environment.store.jobs.latestJobs(pipelineID: pipeline.id).filter { $0.name == name }
        for job in candidates where try await environment.store.artifacts.archive(jobID: job.id) != nil { return job }
        throw Self.jobNotFound
    }

    private func sendArchive(of job: Job, request: Request, context: AppRequestContext) async throws -> Response {
        guard let archive = try await environment.store.artifacts.archive(jobID: job.id) else { throw Self.fileNotFound }
        let url = environment.artifacts.url(archive.storagePath)
        guard FileManager.default.fileExists(atPath: url.path) else { throw Self.fileNotFound }
        return try await ArtifactResponse.file(url, filename: archive.filename, request: request, context: context)
    }

    private func sendEntry(of job: Job, path: String) async throws -> Response {
        guard let archive = try await environment.store.artifacts.archive(jobID: job.id) else { throw Self.fileNotFound }
        do {
            return try await ArtifactEntry.response(archive: environment.artifacts.url(archive.storagePath), path: path, temporary: environment.artifacts.temporaryFile())
        } catch ArtifactEntry.Failure.invalidPath {
            throw APIError(.badRequest, message: "400 Bad request")
        } catch ArtifactEntry.Failure.notFound {
            throw Self.fileNotFound
        } catch is CocoaError {
            throw Self.fileNotFound
        }
    }

    /// Percent-decodes a raw path piece; nil when it decodes to something unusable.
    static func decode(_ raw: String) -> String? {
        let decoded = raw.removingPercentEncoding ?? raw
        return decoded.contains("\0") ? nil : decoded
    }
}
