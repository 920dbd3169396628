import Foundation
import LatchkeyCore
import LatchkeyStore
import Logging

/// Makes pipelines from commits: reads `.gitlab-ci.yml` at the commit, parses it, and stores the pipeline as the user who caused it.
public struct PipelineCreator: Sendable {
    let environment: ServerEnvironment
    let queue: JobQueue

    /// Why no pipeline could be made.
    enum Failure: Error, Equatable {
        case unknownRef
        case missingConfiguration
        case invalidConfiguration([String])
    }

    public static let zeroSHA = String(repeating: "0", count: 40)

    /// Creates a pipeline for `ref` (a branch or tag name) as `user`.
    func create(
        project: Project, ref: String, source: PipelineSource, user: User?, variables: [CIVariable] = [], scheduleID: Int64? = nil,
        upstreamJobID: Int64? = nil, beforeSHA: String = zeroSHA, persistInvalid: Bool = true
    ) async throws -> Pipeline {
        let repositories = environment.repositories
        let branchSHA = await repositories.resolve(projectID: project.id, ref: "refs/heads/\(ref)")
        let tagSHA = await repositories.resolve(projectID: project.id, ref: "refs/tags/\(ref)")
        let isTag = branchSHA == nil && tagSHA != nil
        guard let sha = branchSHA ?? tagSHA else {
            throw Failure.unknownRef
        }
        guard let file = await repositories.file(projectID: project.id, sha: sha, path: ".gitlab-ci.yml") else { throw Failure.missingConfiguration }
        let configuration: Result<PipelineDefinition, CIConfigError>
        do {
            configuration = .success(try CIConfigParser.parse(String(decoding: file, as: UTF8.self)))
        } catch {
            // A push keeps a failed pipeline that shows the errors; the API refuses instead, as GitLab does.
            guard persistInvalid else { throw Failure.invalidConfiguration(error.messages) }
            configuration = .failure(error)
        }
        let new = NewPipeline(
            projectID: project.id, ref: ref, sha: sha, beforeSHA: beforeSHA, isTag: isTag, source: source, userID: user?.id, scheduleID: scheduleID,
            upstreamJobID: upstreamJobID, variables: variables)
        let pipeline = try await environment.store.pipelines.create(new, configuration: configuration)
        try await environment.store.projects.touch(id: project.id)
        await queue.notify()
        environment.logger.info("pipeline created", metadata: ["pipeline": "\(pipeline.id)", "project": "\(project.fullPath)", "status": "\(pipeline.status.rawValue)"])
        return pipeline
    }

    /// Creates a pipeline for every branch or tag a push updated (from the post-receive hook's record), as the pusher.
    func pushed(logFile: URL, project: Project, user: User) async {
        defer { try? FileManager.default.removeItem(at: logFile) }
        guard let text = try? String(contentsOf: logFile, encoding: .utf8) else { return }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[1] != Self.zeroSHA[...] else { continue }
            let refName = String(fields[2])
            let ref: String
            if refName.hasPrefix("refs/heads/") {
                ref = String(refName.dropFirst("refs/heads/".count))
            } else if refName.hasPrefix("refs/tags/") {
                ref = String(refName.dropFirst("refs/tags/".count))
            } else {
                continue
            }
            do {
                _ = try await create(project: project, ref: ref, source: .push, user: user, beforeSHA: String(fields[0]))
            } catch Failure.missingConfiguration {
                continue
            } catch {
                environment.logger.error("pipeline creation after push failed", metadata: ["project": "\(project.fullPath)", "error.type": "\(type(of: error))"])
            }
        }
    }
}

extension PipelineCreator: CustomStringConvertible {
    public var description: String { "PipelineCreator" }
}
