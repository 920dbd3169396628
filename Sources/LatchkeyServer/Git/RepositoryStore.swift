import Foundation
import LatchkeyCore

/// Bare git repositories on disk, one per project, addressed by project id (so renames never move files).
public struct RepositoryStore: Sendable {
    public let root: URL
    /// Hooks every repository runs (post-receive records pushed refs for pipelines).
    public let hooksDirectory: URL

    public init(root: URL) {
        self.root = root
        hooksDirectory = root.appendingPathComponent("_hooks", isDirectory: true)
    }

    public func path(projectID: Int64) -> URL { root.appendingPathComponent("\(projectID).git", isDirectory: true) }

    /// Writes the shared hooks; called at start.
    public func prepare() throws {
        try FileManager.default.createDirectory(at: hooksDirectory, withIntermediateDirectories: true)
        let hook = hooksDirectory.appendingPathComponent("post-receive")
        // Each push's updated refs go to the file the server named for that request, so concurrent pushes never mix.
        let script = "#!/bin/sh\nif [ -n \"$LATCHKEY_PUSH_LOG\" ]; then cat >> \"$LATCHKEY_PUSH_LOG\"; else cat > /dev/null; fi\n"
        try Data(script.utf8).write(to: hook, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook.path)
        try ProtectedBranchHook.install(in: hooksDirectory)
    }

    /// Creates an empty bare repository whose HEAD points at `defaultBranch`.
    public func create(projectID: Int64, defaultBranch: String) async throws {
        let path = path(projectID: projectID)
        let temporary = root.appendingPathComponent(".creating-\(projectID)-\(UUID().uuidString)", isDirectory: true)
        _ = try await Git.run(["init", "--bare", "--quiet", "--initial-branch=\(defaultBranch)", temporary.path])
        _ = try await Git.run(["-C", temporary.path, "config", "core.hooksPath", hooksDirectory.path])
        _ = try await Git.run(["-C", temporary.path, "config", "http.receivepack", "true"])
        _ = try await Git.run(["-C", temporary.path, "config", "uploadpack.allowAnySHA1InWant", "true"])
        try? FileManager.default.removeItem(at: path)
        try FileManager.default.moveItem(at: temporary, to: path)
    }

    public func delete(projectID: Int64) throws {
        let path = path(projectID: projectID)
        if FileManager.default.fileExists(atPath: path.path) { try FileManager.default.removeItem(at: path) }
    }

    /// Whether the repository has no commits.
    public func isEmpty(projectID: Int64) async -> Bool {
        (try? await Git.run(["-C", path(projectID: projectID).path, "for-each-ref", "--count=1", "refs/heads"]).isEmpty) ?? true
    }

    /// Branches with their head commits.
    public func branches(projectID: Int64) async throws -> [(name: String, sha: String)] {
        let output = try await Git.run(["-C", path(projectID: projectID).path, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads"])
        return output.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }
    }

    /// The commit a ref (branch, tag or sha) points at, if it exists.
    public func resolve(projectID: Int64, ref: String) async -> String? {
        guard Git.isSafeRef(ref) else { return nil }
        let output = try? await Git.run(["-C", path(projectID: projectID).path, "rev-parse", "--verify", "--quiet", "\(ref)^{commit}"])
        let sha = output?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return sha.count == 40 ? sha : nil
    }

    /// A file's bytes at a commit; nil if there is no such file.
    public func file(projectID: Int64, sha: String, path: String) async -> Data? {
        guard Git.isSafeRef(sha), !path.isEmpty, !path.contains("\0") else { return nil }
        return try? await Git.runData(["-C", self.path(projectID: projectID).path, "cat-file", "blob", "\(sha):\(path)"])
    }

    /// A commit's title, author and dates, for entities.
    public func commit(projectID: Int64, sha: String) async -> GitCommit? {
        guard Git.isSafeRef(sha),
            let output = try? await Git.run(["-C", path(projectID: projectID).path, "show", "-s", "--format=%H%x00%s%x00%B%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%P", "\(sha)^{commit}"])
        else { return nil }
        let fields = output.components(separatedBy: "\0")
        guard fields.count >= 10 else { return nil }
        return GitCommit(
            sha: fields[0], title: fields[1], message: fields[2], authorName: fields[3], authorEmail: fields[4], authoredDate: fields[5],
            committerName: fields[6], committerEmail: fields[7], committedDate: fields[8],
            parentIDs: fields[9].trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").map(String.init))
    }
}

/// A commit's metadata as git reports it.
public struct GitCommit: Sendable, Equatable {
    public var sha: String
    public var title: String
    public var message: String
    public var authorName: String
    public var authorEmail: String
    public var authoredDate: String
    public var committerName: String
    public var committerEmail: String
    public var committedDate: String
    public var parentIDs: [String]
}

extension RepositoryStore {
    /// Makes the first commit, holding a README, on the default branch (for `initialize_with_readme`).
    func commitInitialReadme(projectID: Int64, project: Project, author: User) async throws {
        let repository = path(projectID: projectID).path
        let readme = "# \(project.name)\n\n\(project.description)\n"
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-readme-\(UUID().uuidString)")
        try Data(readme.utf8).write(to: work)
        defer { try? FileManager.default.removeItem(at: work) }
        let identity = ["GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email, "GIT_COMMITTER_NAME": author.name, "GIT_COMMITTER_EMAIL": author.email]
        let blob = try await Git.run(["-C", repository, "hash-object", "-w", work.path]).trimmingCharacters(in: .whitespacesAndNewlines)
        let index = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-index-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: index) }
        var env = identity
        env["GIT_INDEX_FILE"] = index.path
        _ = try await Git.run(["-C", repository, "update-index", "--add", "--cacheinfo", "100644,\(blob),README.md"], environment: env)
        let tree = try await Git.run(["-C", repository, "write-tree"], environment: env).trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = try await Git.run(["-C", repository, "commit-tree", tree, "-m", "Initial commit"], environment: identity).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try await Git.run(["-C", repository, "update-ref", "refs/heads/\(project.defaultBranch)", commit])
    }
}

/// A tag as git reports it.
public struct GitTag: Sendable, Equatable {
    public var name: String
    /// The tag object for an annotated tag, the commit for a lightweight one (GitLab's `target`).
    public var target: String
    /// The commit the tag points at.
    public var commitSHA: String
    /// The annotation's message; empty for a lightweight tag.
    public var message: String
    /// When the annotated tag was made; nil for a lightweight tag.
    public var createdAt: String?
}

/// Why a tag could not be made.
enum TagCreationError: Error, Equatable {
    case invalidName
    case exists
    case unknownRef
}

extension RepositoryStore {
    /// Every tag, newest commit first as GitLab lists them by default (`order_by=updated`).
    public func tags(projectID: Int64) async throws -> [GitTag] {
        let format = "%(refname:strip=2)%00%(objectname)%00%(objecttype)%00%(*objectname)%00%(creatordate:iso-strict)%00%(contents)%1e"
        let output = try await Git.run(["-C", path(projectID: projectID).path, "for-each-ref", "--sort=-creatordate", "--format=\(format)", "refs/tags"])
        return output.split(separator: "\u{1e}").compactMap { record in
            let fields = record.drop(while: \.isNewline).components(separatedBy: "\0")
            guard fields.count >= 6, !fields[0].isEmpty else { return nil }
            let annotated = fields[2] == "tag"
            return GitTag(
                name: fields[0], target: fields[1], commitSHA: annotated ? fields[3] : fields[1],
                message: annotated ? fields[5].trimmingCharacters(in: .newlines) : "", createdAt: annotated ? fields[4] : nil)
        }
    }

    /// One tag by name.
    public func tag(projectID: Int64, name: String) async throws -> GitTag? {
        try await tags(projectID: projectID).first { $0.name == name }
    }

    /// Whether `name` is a valid tag name by git's rules.
    static func isValidTagName(_ name: String) async -> Bool {
        guard GitRefName.isValidTagName(name) else { return false }
        return (try? await Git.run(["check-ref-format", "refs/tags/\(name)"])) != nil
    }

    /// Makes a tag at `ref` (annotated when `message` is given) as `tagger`; answers the tag.
    func createTag(projectID: Int64, name: String, ref: String, message: String?, tagger: User?) async throws -> GitTag {
        guard await Self.isValidTagName(name) else { throw TagCreationError.invalidName }
        guard await resolve(projectID: projectID, ref: "refs/tags/\(name)") == nil else { throw TagCreationError.exists }
        guard let sha = await resolve(projectID: projectID, ref: ref) else { throw TagCreationError.unknownRef }
        let repository = path(projectID: projectID).path
        if let message, !message.isEmpty {
            let identity = [
                "GIT_COMMITTER_NAME": tagger?.name ?? "Latchkey", "GIT_COMMITTER_EMAIL": tagger?.email ?? "latchkey@localhost",
                "GIT_AUTHOR_NAME": tagger?.name ?? "Latchkey", "GIT_AUTHOR_EMAIL": tagger?.email ?? "latchkey@localhost",
            ]
            _ = try await Git.run(["-C", repository, "tag", "-a", "-m", message, name, sha], environment: identity)
        } else {
            // `update-ref` with the zero old value refuses to move a tag another request made meanwhile.
            _ = try await Git.run(["-C", repository, "update-ref", "refs/tags/\(name)", sha, String(repeating: "0", count: 40)])
        }
        guard let tag = try await tag(projectID: projectID, name: name) else { throw TagCreationError.unknownRef }
        return tag
    }
}

extension RepositoryStore {
    /// Lines added and removed by a commit (GitLab's `stats`).
    public func commitStats(projectID: Int64, sha: String) async -> (additions: Int, deletions: Int) {
        guard Git.isSafeRef(sha), let output = try? await Git.run(["-C", path(projectID: projectID).path, "show", "--numstat", "--format=", sha]) else {
            return (0, 0)
        }
        var additions = 0
        var deletions = 0
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            guard fields.count >= 2 else { continue }
            additions += Int(fields[0]) ?? 0
            deletions += Int(fields[1]) ?? 0
        }
        return (additions, deletions)
    }
}
