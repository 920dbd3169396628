import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `GET /projects/:id/repository/compare`: the commits and diffs between two refs (GitLab's `Compare`), through their merge base
/// unless `straight=true`. Needs read_code; a job token is no credential here (not in GitLab's job-token table).
struct RepositoryCompareController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/repository/compare", use: compare)
        return routes
    }

    /// GitLab's `Diff`.
    struct DiffEntity: Encodable, Sendable {
        var diff: String
        var collapsed: Bool
        var tooLarge: Bool
        var newPath: String
        var oldPath: String
        var aMode: String
        var bMode: String
        var newFile: Bool
        var renamedFile: Bool
        var deletedFile: Bool
        var generatedFile = false
    }

    /// GitLab's `Compare`.
    struct CompareEntity: Encodable, Sendable {
        @Nullable var commit: RepositoryCommitEntity?
        var commits: [RepositoryCommitEntity]
        var diffs: [DiffEntity]
        var compareTimeout: Bool
        var compareSameRef: Bool
        var webUrl: String
    }

    @Sendable func compare(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        var missing: [String] = []
        if try parameters.string("from") == nil { missing.append("from") }
        if try parameters.string("to") == nil { missing.append("to") }
        guard missing.isEmpty else { throw APIError(.badRequest, error: missing.map { "\($0) is missing" }.joined(separator: ", ")) }
        let from = try parameters.requireString("from")
        let to = try parameters.requireString("to")
        let straight = try parameters.bool("straight") ?? false
        if let other = try parameters.int("from_project_id"), other != facts.project.id {
            // Latchkey has no forks: no other project is a fork of this one.
            throw APIError(.badRequest, message: "Target project id:\(other) is not a fork of project id:\(facts.project.id)")
        }
        // A ref that git could read as an option or a revision expression is refused before git sees it.
        guard Git.isSafeRef(from) else { throw APIError.invalid("from") }
        guard Git.isSafeRef(to) else { throw APIError.invalid("to") }
        let project = facts.project
        let repositories = environment.repositories
        guard let base = await repositories.resolve(projectID: project.id, ref: from), let head = await repositories.resolve(projectID: project.id, ref: to)
        else { throw APIError.notFound("Ref") }
        let baseURL = environment.settings.baseURL
        let web = "\(baseURL)/\(project.fullPath)"
        let same = base == head
        var commits: [GitCommit] = []
        var diffs: [GitFileDiff] = []
        var timedOut = false
        if !same {
            do {
                commits = try await repositories.commits(projectID: project.id, from: base, to: head)
                let diffBase = straight ? base : (await repositories.mergeBase(projectID: project.id, base, head) ?? base)
                diffs = try await repositories.diffs(projectID: project.id, from: diffBase, to: head)
            } catch RepositoryBrowsingError.tooLarge {
                // GitLab's answer when a comparison cannot be made in time: `compare_timeout: true` and nothing listed.
                commits = []
                diffs = []
                timedOut = true
            }
        }
        let commitEntities = commits.map { RepositoryCommitEntity($0, webURL: "\(web)/-/commit/\($0.sha)") }
        let diffEntities = diffs.map {
            DiffEntity(
                diff: $0.diff, collapsed: $0.tooLarge, tooLarge: $0.tooLarge, newPath: $0.newPath, oldPath: $0.oldPath, aMode: $0.aMode, bMode: $0.bMode,
                newFile: $0.newFile, renamedFile: $0.renamedFile, deletedFile: $0.deletedFile)
        }
        let query = straight ? "?straight=true" : ""
        let entity = CompareEntity(
            commit: commitEntities.last, commits: commitEntities, diffs: diffEntities, compareTimeout: timedOut, compareSameRef: same,
            webUrl: "\(web)/-/compare/\(Self.encoded(from))...\(Self.encoded(to))\(query)")
        return try JSON.response(entity)
    }

    private static func encoded(_ ref: String) -> String {
        ref.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? ref
    }
}
