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
        }
    }
}

/// Who a commit is by.
struct CommitIdentity: Sendable {
    var name: String
    var email: String

    var environment: [String: String] {
        ["GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email]
    }
}

extension RepositoryStore {
    /// Makes one commit of `actions` on `branch`, on top of `base` (the branch's head, or the start point of a new branch;
    /// nil for an empty repository), in a private index so nothing else sees it until the branch moves, and moves the branch
    /// only if it is still where it was (compare and swap): two writers never lose each other's commits. Answers the new sha.
    func commit(
        projectID: Int64, branch: String, base: String?, branchExists: Bool, actions: [CommitAction], message: String, author: CommitIdentity
    ) async throws -> String {
        let repository = path(projectID: projectID).path
        let index = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-index-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: index) }
        var environment = author.environment
        environment["GIT_INDEX_FILE"] = index.path
        if let base {
            _ = try await Git.run(["-C", repository, "read-tree", base], environment: environment)
        }
        // What the tree holds now, path → (mode, blob), kept current as the actions apply.
        var entries: [String: (mode: String, blob: String)] = [:]
        let listing = try await Git.runData(["-C", repository, "ls-files", "-s", "-z"], environment: environment)
        for record in listing.split(separator: 0) {
            // `<mode> <blob> <stage>\t<path>`
            guard let tab = record.firstIndex(of: 9) else { continue }
            let fields = record[record.startIndex..<tab].split(separator: 32)
            guard fields.count == 3 else { continue }
            entries[String(decoding: record[(tab + 1)...], as: UTF8.self)] = (String(decoding: fields[0], as: UTF8.self), String(decoding: fields[1], as: UTF8.self))
        }
        func directoryHolds(_ path: String) -> Bool {
            let prefix = path + "/"
            return entries.keys.contains { $0.hasPrefix(prefix) }
        }
        func blobParentConflict(_ path: String) -> Bool {
            // A file cannot be made below a path that is a file.
            var components = path.split(separator: "/").dropLast()
            while !components.isEmpty {
                if entries[components.joined(separator: "/")] != nil { return true }
                components = components.dropLast()
            }
            return false
        }
        func changedSince(_ path: String, _ seen: String?) async throws -> Bool {
            guard let seen, let base else { return false }
            guard Git.isSafeRef(seen) else { return true }
            let last = try await Git.run(["-C", repository, "log", "-1", "--format=%H", base, "--", ":(literal)\(path)"]).trimmingCharacters(in: .whitespacesAndNewlines)
            return !last.hasPrefix(seen) || seen.count < 7
        }
        func writeBlob(_ bytes: [UInt8]) async throws -> String {
            try await Git.run(["-C", repository, "hash-object", "-w", "--stdin"], input: bytes).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var updates: [String] = []
        func stage(_ path: String, mode: String, blob: String) {
            entries[path] = (mode, blob)
            updates.append("\(mode) \(blob)\t\(path)")
        }
        func unstage(_ path: String) {
            entries[path] = nil
            updates.append("0 \(String(repeating: "0", count: 40))\t\(path)")
        }
        func mode(_ executable: Bool?, keeping old: String?) -> String {
            if let executable { return executable ? "100755" : "100644" }
            return old == "100755" ? "100755" : "100644"
        }
        for action in actions {
            let path = action.filePath
            switch action.kind {
            case .create:
                guard entries[path] == nil, !directoryHolds(path) else { throw CommitFailure.fileExists(path) }
                guard !blobParentConflict(path) else { throw CommitFailure.invalidPath(path) }
                stage(path, mode: mode(action.executable, keeping: nil), blob: try await writeBlob(action.content ?? []))
            case .update:
                guard let old = entries[path], old.mode != "120000", old.mode != "160000" else { throw CommitFailure.fileMissing(path) }
                if try await changedSince(path, action.lastCommitID) { throw CommitFailure.changedSince(path) }
                stage(path, mode: mode(action.executable, keeping: old.mode), blob: try await writeBlob(action.content ?? []))
            case .delete:
                guard entries[path] != nil else { throw CommitFailure.fileMissing(path) }
                if try await changedSince(path, action.lastCommitID) { throw CommitFailure.changedSince(path) }
                unstage(path)
            case .move:
                let previous = action.previousPath ?? path
                guard let old = entries[previous] else { throw CommitFailure.fileMissing(previous) }
                if try await changedSince(previous, action.lastCommitID) { throw CommitFailure.changedSince(previous) }
                unstage(previous)
                guard entries[path] == nil, !directoryHolds(path) else { throw CommitFailure.fileExists(path) }
                guard !blobParentConflict(path) else { throw CommitFailure.invalidPath(path) }
                var blob = old.blob
                if let content = action.content { blob = try await writeBlob(content) }
                stage(path, mode: mode(action.executable, keeping: old.mode), blob: blob)
            case .chmod:
                guard let old = entries[path], old.mode == "100644" || old.mode == "100755" else { throw CommitFailure.fileMissing(path) }
                stage(path, mode: mode(action.executable, keeping: old.mode), blob: old.blob)
            }
        }
        // One update-index for all of it: `--index-info` takes `mode sha\tpath` lines (mode 0 removes).
        do {
            _ = try await Git.run(["-C", repository, "update-index", "-z", "--index-info"], environment: environment, input: Array(updates.joined(separator: "\0").utf8) + [0])
        } catch {
            throw CommitFailure.invalidPath(actions.map(\.filePath).joined(separator: ", "))
        }
        let tree = try await Git.run(["-C", repository, "write-tree"], environment: environment).trimmingCharacters(in: .whitespacesAndNewlines)
        if let base, try await Git.run(["-C", repository, "rev-parse", "\(base)^{tree}"]).trimmingCharacters(in: .whitespacesAndNewlines) == tree {
            throw CommitFailure.noChanges
        }
        var arguments = ["-C", repository, "commit-tree", tree, "-F", "-"]
        if let base { arguments += ["-p", base] }
        let commit = try await Git.run(arguments, environment: author.environment, input: Array(message.utf8)).trimmingCharacters(in: .whitespacesAndNewlines)
        let expected = branchExists ? (base ?? String(repeating: "0", count: 40)) : String(repeating: "0", count: 40)
        guard (try? await Git.run(["-C", repository, "update-ref", "refs/heads/\(branch)", commit, expected])) != nil else { throw CommitFailure.branchMoved }
        return commit
    }
}
