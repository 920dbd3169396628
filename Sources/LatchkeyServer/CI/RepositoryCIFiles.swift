import Foundation
import LatchkeyCore
import LatchkeyStore

/// The repository as a pipeline's `.gitlab-ci.yml` sees it: its own commit, and other projects read as the pipeline's user.
struct RepositoryCIFiles: CIRepositoryFiles {
    let environment: ServerEnvironment
    let project: Project
    let sha: String
    /// Whom `include:project` reads as: the pipeline's user, through `AccessPolicy` (`download_code`), as GitLab.
    let actor: Actor

    /// The pipeline a child pipeline is made for, whose jobs' artifacts `include:artifact` reads; nil for any other pipeline.
    var parentPipelineID: Int64? = nil

    /// Most paths listed for `exists:` and wildcard includes.
    static let maxPaths = 200_000
    /// The largest configuration read out of an artifacts archive (GitLab's `max_artifacts_content_include_size` default).
    static let maxArtifactInclude = 5 * 1024 * 1024

    func artifactFile(job: String, path: String) async throws(CIConfigError) -> String {
        guard let parentPipelineID else { throw CIConfigError(CIIncludedFile.artifactOutsideChild) }
        let missing = CIConfigError("Job `\(job)` not found in parent pipeline or does not have artifacts!")
        guard let jobs = try? await environment.store.jobs.jobs(pipelineID: parentPipelineID, filter: JobFilter(bridges: false)).items,
            let owner = jobs.last(where: { $0.name == job }),
            let archive = try? await environment.store.artifacts.archive(jobID: owner.id)
        else { throw missing }
        do {
            return try await ArtifactEntry.text(archive: environment.artifacts.url(archive.storagePath), path: path, limit: Self.maxArtifactInclude)
        } catch ArtifactEntry.TextFailure.tooLarge {
            throw CIConfigError("File `\(path)` in the `\(job)` artifacts archive is too large: max 5 MB")
        } catch {
            throw CIConfigError("Path `\(path)` does not exist inside the `\(job)` artifacts archive!")
        }
    }

    func localFile(_ path: String) async -> String? {
        await environment.repositories.file(projectID: project.id, sha: sha, path: path).map { String(decoding: $0, as: UTF8.self) }
    }

    func projectFile(project path: String, ref: String?, path file: String) async throws(CIConfigError) -> String {
        let denied = CIConfigError(
            "Project `\(path)` not found or access denied! Make sure any includes in the pipeline configuration are correctly defined.")
        guard let other = try? await environment.store.projects.find(fullPath: path),
            let facts = try? await environment.authorizer.facts(for: other, actor: actor),
            AccessPolicy.decide(actor, .downloadCode, on: facts).isAllowed
        else { throw denied }
        let wanted = ref ?? other.defaultBranch
        let repositories = environment.repositories
        var commit = await repositories.resolve(projectID: other.id, ref: "refs/heads/\(wanted)")
        if commit == nil { commit = await repositories.resolve(projectID: other.id, ref: "refs/tags/\(wanted)") }
        if commit == nil, wanted.count == 40 { commit = await repositories.resolve(projectID: other.id, ref: wanted) }
        guard let commit else { throw CIConfigError("Project `\(path)` reference `\(wanted)` does not exist!") }
        guard let data = await repositories.file(projectID: other.id, sha: commit, path: file) else {
            throw CIConfigError("Project `\(path)` file `\(file)` does not exist!")
        }
        return String(decoding: data, as: UTF8.self)
    }

    func paths() async -> [String] {
        let repository = environment.repositories.path(projectID: project.id).path
        guard let data = try? await Git.runData(["-C", repository, "ls-tree", "-r", "--name-only", "-z", sha]) else { return [] }
        return data.split(separator: 0).prefix(Self.maxPaths).map { String(decoding: $0, as: UTF8.self) }
    }

    func changedPaths(comparedTo ref: String) async -> [String]? {
        let repositories = environment.repositories
        var base = await repositories.resolve(projectID: project.id, ref: "refs/heads/\(ref)")
        if base == nil { base = await repositories.resolve(projectID: project.id, ref: ref) }
        guard let base else { return nil }
        return await Self.diff(environment: environment, projectID: project.id, from: base, to: sha)
    }

    func lastCommits(paths: [String]) async -> [String: String] {
        let repository = environment.repositories.path(projectID: project.id).path
        var commits: [String: String] = [:]
        for path in paths.prefix(CIConfigParser.maxCacheKeyFiles) where !path.isEmpty {
            // Literal pathspecs: a path from the file is a name, never a git wildcard or magic pathspec.
            guard let data = try? await Git.runData(["--literal-pathspecs", "-C", repository, "log", "-1", "--format=%H", sha, "--", path]) else { continue }
            let id = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if id.count == 40 || id.count == 64 { commits[path] = id }
        }
        return commits
    }

    /// Paths that differ between two commits; nil when git cannot tell (an unknown or unrelated commit).
    static func diff(environment: ServerEnvironment, projectID: Int64, from: String, to: String) async -> [String]? {
        guard Git.isSafeRef(from), Git.isSafeRef(to) else { return nil }
        let repository = environment.repositories.path(projectID: projectID).path
        guard let data = try? await Git.runData(["-C", repository, "diff", "--name-only", "-z", "--no-renames", from, to]) else { return nil }
        return data.split(separator: 0).prefix(maxPaths).map { String(decoding: $0, as: UTF8.self) }
    }
}
