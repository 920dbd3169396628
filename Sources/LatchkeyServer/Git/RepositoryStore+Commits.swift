import Foundation
import LatchkeyCore

/// Why a commit made through the API did not land, in GitLab's words (all 400 but `branchMoved`, a race).
enum CommitFailure: Error, Equatable {
    case notOnBranch
    case startNotFound(String)
    case fileExists(String)
    case fileMissing(String)
    case changedSince(String)
    case invalidPath(String)
    case noChanges
    case branchMoved
    case branchExists
    case submoduleMove(String)
    case invalidMessage
    case invalidAuthor(String)

    var message: String {
        switch self {
        case .notOnBranch: "You can only create or edit files when you are on a branch"
        case .startNotFound(let ref): "Invalid reference name: \(ref)"
        case .fileExists(let path): "A file with this name already exists: \(path)"
        case .fileMissing(let path): "A file with this name doesn't exist: \(path)"
        case .changedSince(let path): "You are attempting to update a file that has changed since you started editing it: \(path)"
        case .invalidPath(let path): "Your changes could not be committed, because the file path \(path) is invalid"
        case .noChanges: "No changes were made"
        case .branchMoved: "The branch was changed by someone else while the commit was being made; try again"
        case .branchExists: "Branch already exists"
        case .submoduleMove(let path): "\(path) is a submodule; a submodule cannot be moved through the API"
        case .invalidMessage: "commit_message is invalid: it may not contain a NUL byte"
        case .invalidAuthor(let name): "\(name) is invalid"
        }
    }
}

/// Who a commit is by.
struct CommitIdentity: Sendable {
    var name: String
    var email: String

    /// The identity, or why git would refuse it: no `<`, `>`, newline or NUL anywhere (git's ident syntax), and a name that
    /// is more than the characters git strips from an ident's ends (`<>` or `.` alone would leave it empty).
    static func checked(name: String, email: String) throws(CommitFailure) -> CommitIdentity {
        func clean(_ text: String) -> Bool { !text.unicodeScalars.contains { "<>\n\0".unicodeScalars.contains($0) } }
        guard clean(name), name.unicodeScalars.contains(where: { $0.value > 32 && !".,:;\"\\'".unicodeScalars.contains($0) }) else {
            throw .invalidAuthor("author_name")
        }
        guard clean(email) else { throw .invalidAuthor("author_email") }
        return CommitIdentity(name: name, email: email)
    }

    var environment: [String: String] {
        ["GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email]
    }
}

extension RepositoryStore {
    /// Makes one commit of `actions` on `branch`, on top of `base` (the branch's head, or the start point of a new branch;
    /// nil for an empty repository), in a private index so nothing else sees it until the branch moves, and moves the branch
    /// only if it is still where it was (compare and swap): two writers never lose each other's commits. Answers the new sha.
    ///
    /// A constant number of git processes whatever the number of actions: one writes every blob, one checks every
    /// `last_commit_id`, one updates the index.
    func commit(
        projectID: Int64, branch: String, base: String?, branchExists: Bool, actions: [CommitAction], message: String, author: CommitIdentity
    ) async throws -> String {
        guard !message.utf8.contains(0) else { throw CommitFailure.invalidMessage }
        let repository = path(projectID: projectID).path
        let index = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-index-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: index) }
        var environment = author.environment
        environment["GIT_INDEX_FILE"] = index.path
        if let base {
            _ = try await Git.run(["-C", repository, "read-tree", base], environment: environment)
        }
        var tree = try await CommitTree(listing: Git.runData(["-C", repository, "ls-files", "-s", "-z"], environment: environment))
        let changed = try await pathsChanged(repository: repository, base: base, actions: actions)
        let blobs = try await writeBlobs(repository: repository, actions.compactMap(\.content))
        var nextBlob = blobs.makeIterator()
        for action in actions {
            let path = action.filePath
            let blob = action.content == nil ? nil : nextBlob.next()
            switch action.kind {
            case .create:
                try tree.refuseTaken(path)
                tree.stage(path, mode: Self.mode(action.executable, keeping: nil), blob: blob!)
            case .update:
                guard let old = tree.entries[path], old.mode != "120000", old.mode != "160000" else { throw CommitFailure.fileMissing(path) }
                if changed.contains(path) { throw CommitFailure.changedSince(path) }
                tree.stage(path, mode: Self.mode(action.executable, keeping: old.mode), blob: blob!)
            case .delete:
                guard tree.entries[path] != nil else { throw CommitFailure.fileMissing(path) }
                if changed.contains(path) { throw CommitFailure.changedSince(path) }
                tree.unstage(path)
            case .move:
                let previous = action.previousPath ?? path
                guard let old = tree.entries[previous] else { throw CommitFailure.fileMissing(previous) }
                // A gitlink names a commit of another repository; moving one is not a file operation.
                guard old.mode != "160000" else { throw CommitFailure.submoduleMove(previous) }
                if changed.contains(previous) { throw CommitFailure.changedSince(previous) }
                tree.unstage(previous)
                try tree.refuseTaken(path)
                // A symbolic link stays one (its target is its content); a file keeps or changes its executable bit.
                let mode = old.mode == "120000" && action.executable == nil ? old.mode : Self.mode(action.executable, keeping: old.mode)
                tree.stage(path, mode: mode, blob: blob ?? old.blob)
            case .chmod:
                guard let old = tree.entries[path], old.mode == "100644" || old.mode == "100755" else { throw CommitFailure.fileMissing(path) }
                tree.stage(path, mode: Self.mode(action.executable, keeping: old.mode), blob: old.blob)
            }
        }
        // One update-index for all of it: `--index-info` takes `mode sha\tpath` lines (mode 0 removes).
        do {
            _ = try await Git.run(["-C", repository, "update-index", "-z", "--index-info"], environment: environment, input: Array(tree.updates.joined(separator: "\0").utf8) + [0])
        } catch {
            throw CommitFailure.invalidPath(actions.map(\.filePath).joined(separator: ", "))
        }
        let written = try await Git.run(["-C", repository, "write-tree"], environment: environment).trimmingCharacters(in: .whitespacesAndNewlines)
        if let base, try await Git.run(["-C", repository, "rev-parse", "\(base)^{tree}"]).trimmingCharacters(in: .whitespacesAndNewlines) == written {
            throw CommitFailure.noChanges
        }
        var arguments = ["-C", repository, "commit-tree", written, "-F", "-"]
        if let base { arguments += ["-p", base] }
        let commit = try await Git.run(arguments, environment: author.environment, input: Array(message.utf8)).trimmingCharacters(in: .whitespacesAndNewlines)
        let expected = branchExists ? (base ?? String(repeating: "0", count: 40)) : String(repeating: "0", count: 40)
        guard (try? await Git.run(["-C", repository, "update-ref", "refs/heads/\(branch)", commit, expected])) != nil else { throw CommitFailure.branchMoved }
        return commit
    }

    private static func mode(_ executable: Bool?, keeping old: String?) -> String {
        if let executable { return executable ? "100755" : "100644" }
        return old == "100755" ? "100755" : "100644"
    }

    /// The paths of `actions` whose `last_commit_id` is stale: the file there differs from the file at `base` (or is not
    /// there, or the id names no commit). One `cat-file` reads both sides of every check.
    private func pathsChanged(repository: String, base: String?, actions: [CommitAction]) async throws -> Set<String> {
        guard let base else { return [] }
        var checks: [(path: String, seen: String)] = []
        var changed: Set<String> = []
        for action in actions where action.kind != .create && action.kind != .chmod {
            guard let seen = action.lastCommitID else { continue }
            let path = action.kind == .move ? action.previousPath ?? action.filePath : action.filePath
            guard Git.isSafeRef(seen), seen.count >= 7 else { changed.insert(path); continue }
            checks.append((path, seen))
        }
        guard !checks.isEmpty else { return changed }
        // One name per line: paths hold no control character (`RepositoryPath`), ids are checked refs.
        var input = ""
        for check in checks {
            input += "\(check.seen)^{commit}:\(check.path)\n\(base):\(check.path)\n"
        }
        let output = try await Git.run(["-C", repository, "cat-file", "--batch-check=%(objectname)"], input: Array(input.utf8))
        let answers = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (offset, check) in checks.enumerated() {
            let then = 2 * offset < answers.count ? answers[2 * offset] : ""
            let now = 2 * offset + 1 < answers.count ? answers[2 * offset + 1] : ""
            // `cat-file` answers `<name> missing` for a name it cannot resolve, which is no object id.
            if then != now || then.isEmpty || !then.allSatisfy(\.isHexDigit) { changed.insert(check.path) }
        }
        return changed
    }

    /// Writes every content as a blob with one `hash-object`, through files in a private directory; the blobs' ids in order.
    private func writeBlobs(repository: String, _ contents: [[UInt8]]) async throws -> [String] {
        guard !contents.isEmpty else { return [] }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-blobs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for (number, content) in contents.enumerated() {
            let file = directory.appendingPathComponent("\(number)")
            try Data(content).write(to: file)
            paths.append(file.path)
        }
        // `--no-filters`: the bytes are the file, as the API sent them, whatever `.gitattributes` says.
        let output = try await Git.run(["-C", repository, "hash-object", "-w", "--no-filters", "--stdin-paths"], input: Array((paths.joined(separator: "\n") + "\n").utf8))
        let blobs = output.split(separator: "\n").map(String.init)
        guard blobs.count == contents.count else { throw Git.Failure(status: 1) }
        return blobs
    }
}

/// The tree a commit is being built on, path → (mode, blob), kept current as actions apply, with the index lines to write.
private struct CommitTree {
    private(set) var entries: [String: (mode: String, blob: String)] = [:]
    /// How many files sit below each directory: whether a path is a directory, without a scan of every entry.
    private var filesBelow: [String: Int] = [:]
    private(set) var updates: [String] = []

    /// From `ls-files -s -z`: `<mode> <blob> <stage>\t<path>` records.
    init(listing: Data) {
        for record in listing.split(separator: 0) {
            guard let tab = record.firstIndex(of: 9) else { continue }
            let fields = record[record.startIndex..<tab].split(separator: 32)
            guard fields.count == 3 else { continue }
            add(String(decoding: record[(tab + 1)...], as: UTF8.self), mode: String(decoding: fields[0], as: UTF8.self), blob: String(decoding: fields[1], as: UTF8.self))
        }
    }

    /// Refuses a path that is taken (a file or a directory is there) or that would sit below a file.
    func refuseTaken(_ path: String) throws(CommitFailure) {
        guard entries[path] == nil, filesBelow[path] == nil else { throw .fileExists(path) }
        for directory in Self.directories(of: path) where entries[directory] != nil { throw .invalidPath(path) }
    }

    mutating func stage(_ path: String, mode: String, blob: String) {
        add(path, mode: mode, blob: blob)
        updates.append("\(mode) \(blob)\t\(path)")
    }

    mutating func unstage(_ path: String) {
        guard entries.removeValue(forKey: path) != nil else { return }
        for directory in Self.directories(of: path) {
            let count = (filesBelow[directory] ?? 1) - 1
            filesBelow[directory] = count > 0 ? count : nil
        }
        updates.append("0 \(String(repeating: "0", count: 40))\t\(path)")
    }

    private mutating func add(_ path: String, mode: String, blob: String) {
        if entries.updateValue((mode, blob), forKey: path) == nil {
            for directory in Self.directories(of: path) { filesBelow[directory, default: 0] += 1 }
        }
    }

    /// `a/b/c` → `a`, `a/b`.
    private static func directories(of path: String) -> [String] {
        var result: [String] = []
        var index = path.startIndex
        while let slash = path[index...].firstIndex(of: "/") {
            result.append(String(path[..<slash]))
            index = path.index(after: slash)
        }
        return result
    }
}
