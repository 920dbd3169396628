import Foundation
import LatchkeyCore

/// One entry of a tree listing (GitLab's `TreeObject`).
struct GitTreeEntry: Sendable, Equatable {
    var id: String
    var name: String
    /// `tree`, `blob` or `commit` (a submodule).
    var type: String
    var path: String
    var mode: String
}

/// One file's change between two commits (GitLab's `Diff`).
struct GitFileDiff: Sendable, Equatable {
    var oldPath: String
    var newPath: String
    var aMode: String
    var bMode: String
    var newFile: Bool
    var renamedFile: Bool
    var deletedFile: Bool
    /// The patch from its first hunk on; empty when too large to show, as GitLab's overflowing diffs.
    var diff: String
    var tooLarge: Bool
}

/// Why a listing or comparison could not be made within bounds.
enum RepositoryBrowsingError: Error, Equatable {
    /// The path names no tree at the commit.
    case noSuchPath
    /// More output than the bound allows (a tree or a comparison too large to answer).
    case tooLarge
}

extension RepositoryStore {
    /// Most bytes of `ls-tree` output read for one listing (about 300,000 entries).
    static let maxTreeListingBytes = 32 << 20
    /// Most commits a comparison lists, and bytes of their log read.
    static let maxCompareCommits = 1000
    static let maxCompareLogBytes = 16 << 20
    /// Most files a comparison shows, bytes of patch read, and bytes of one file's patch shown (GitLab's diff limits are of this order).
    static let maxCompareFiles = 1000
    static let maxComparePatchBytes = 32 << 20
    static let maxFilePatchBytes = 200 << 10

    /// The entries of the tree at `path` (the root when empty) of `sha`, trees first then files then submodules, each by path.
    func tree(projectID: Int64, sha: String, path: String, recursive: Bool) async throws -> [GitTreeEntry] {
        guard Git.isSafeRef(sha) else { throw RepositoryBrowsingError.noSuchPath }
        let repository = self.path(projectID: projectID).path
        if !path.isEmpty {
            // `sha:path` must be a tree; a file or a missing path is not one.
            let type = try? await Git.run(["-C", repository, "cat-file", "-t", "\(sha):\(path)"])
            guard type?.trimmingCharacters(in: .whitespacesAndNewlines) == "tree" else { throw RepositoryBrowsingError.noSuchPath }
        }
        var arguments = ["-C", repository, "ls-tree", "-z"]
        if recursive { arguments += ["-r", "-t"] }
        arguments.append(path.isEmpty ? sha : "\(sha):\(path)")
        let data: Data
        do {
            data = try await Git.runData(arguments, limit: Self.maxTreeListingBytes)
        } catch is Git.OutputTooLarge {
            throw RepositoryBrowsingError.tooLarge
        } catch {
            throw RepositoryBrowsingError.noSuchPath
        }
        var entries: [GitTreeEntry] = []
        for record in data.split(separator: 0) {
            // `<mode> SP <type> SP <object> TAB <path>`
            guard let tab = record.firstIndex(of: UInt8(ascii: "\t")) else { continue }
            let fields = record[record.startIndex..<tab].split(separator: UInt8(ascii: " "))
            guard fields.count == 3 else { continue }
            let relative = String(decoding: record[(tab + 1)...], as: UTF8.self)
            let full = path.isEmpty ? relative : "\(path)/\(relative)"
            entries.append(
                GitTreeEntry(
                    id: String(decoding: fields[2], as: UTF8.self), name: (relative as NSString).lastPathComponent,
                    type: String(decoding: fields[1], as: UTF8.self), path: full, mode: String(decoding: fields[0], as: UTF8.self)))
        }
        let rank = ["tree": 0, "blob": 1, "commit": 2]
        return entries.sorted { left, right in
            let (l, r) = (rank[left.type] ?? 3, rank[right.type] ?? 3)
            return l != r ? l < r : Array(left.path.utf8).lexicographicallyPrecedes(Array(right.path.utf8))
        }
    }

    /// The merge base of two commits, if they share history.
    func mergeBase(projectID: Int64, _ first: String, _ second: String) async -> String? {
        guard Git.isSafeRef(first), Git.isSafeRef(second),
            let output = try? await Git.run(["-C", path(projectID: projectID).path, "merge-base", first, second])
        else { return nil }
        let sha = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return sha.count == 40 ? sha : nil
    }

    /// Commits reachable from `head` and not from `base`, oldest first (GitLab's `commits_between`), at most `maxCompareCommits`.
    func commits(projectID: Int64, from base: String, to head: String) async throws -> [GitCommit] {
        guard Git.isSafeRef(base), Git.isSafeRef(head) else { return [] }
        let format = "%H%x00%s%x00%B%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%P%x1e"
        let data: Data
        do {
            data = try await Git.runData(
                ["-C", path(projectID: projectID).path, "log", "--format=\(format)", "--max-count=\(Self.maxCompareCommits)", "\(base)..\(head)"],
                limit: Self.maxCompareLogBytes)
        } catch is Git.OutputTooLarge {
            throw RepositoryBrowsingError.tooLarge
        }
        let records = String(decoding: data, as: UTF8.self).split(separator: "\u{1e}")
        return records.compactMap { record -> GitCommit? in
            let fields = record.drop(while: \.isNewline).components(separatedBy: "\0")
            guard fields.count >= 10, fields[0].count == 40 else { return nil }
            return GitCommit(
                sha: fields[0], title: fields[1], message: fields[2], authorName: fields[3], authorEmail: fields[4], authoredDate: fields[5],
                committerName: fields[6], committerEmail: fields[7], committedDate: fields[8],
                parentIDs: fields[9].trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").map(String.init))
        }.reversed()
    }

    /// The files that differ from `base` to `head`, with their patches (renames detected, as GitLab).
    func diffs(projectID: Int64, from base: String, to head: String) async throws -> [GitFileDiff] {
        guard Git.isSafeRef(base), Git.isSafeRef(head) else { return [] }
        let repository = path(projectID: projectID).path
        let common = ["-C", repository, "diff", "--no-color", "--no-ext-diff", "--no-textconv", "-M", "--full-index"]
        let raw: Data
        let patch: Data
        do {
            raw = try await Git.runData(common + ["--raw", "-z", "--no-abbrev", base, head], limit: Self.maxTreeListingBytes)
        } catch is Git.OutputTooLarge {
            throw RepositoryBrowsingError.tooLarge
        }
        var files = Self.parseRaw(raw)
        guard files.count <= Self.maxCompareFiles else { throw RepositoryBrowsingError.tooLarge }
        do {
            patch = try await Git.runData(common + ["--patch", base, head], limit: Self.maxComparePatchBytes)
        } catch is Git.OutputTooLarge {
            // Too much to show: the file list stands, every patch is left empty (GitLab's overflow).
            return files.map { file in
                var file = file
                file.tooLarge = true
                return file
            }
        }
        // The patch lists the files in the raw listing's order; pair them by position.
        let patches = Self.splitPatch(patch)
        for index in files.indices where index < patches.count {
            if patches[index].utf8.count > Self.maxFilePatchBytes {
                files[index].tooLarge = true
            } else {
                files[index].diff = patches[index]
            }
        }
        return files
    }

    /// `git diff --raw -z` records: `:<old mode> <new mode> <old sha> <new sha> <status>\0<path>\0[<new path>\0]`.
    static func parseRaw(_ data: Data) -> [GitFileDiff] {
        var fields = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }[...]
        var files: [GitFileDiff] = []
        while let head = fields.popFirst() {
            guard head.hasPrefix(":") else { continue }
            let parts = head.dropFirst().split(separator: " ")
            guard parts.count == 5, let path = fields.popFirst() else { break }
            let status = parts[4].first ?? "M"
            var newPath = path
            if status == "R" || status == "C", let second = fields.popFirst() { newPath = second }
            files.append(
                GitFileDiff(
                    oldPath: path, newPath: newPath, aMode: gitLabMode(parts[0]), bMode: gitLabMode(parts[1]), newFile: status == "A",
                    renamedFile: status == "R", deletedFile: status == "D", diff: "", tooLarge: false))
        }
        return files
    }

    /// A mode as GitLab's diffs show it: `0` for a side where the file does not exist.
    private static func gitLabMode(_ mode: Substring) -> String {
        mode.allSatisfy { $0 == "0" } ? "0" : String(mode)
    }

    /// The per-file pieces of a patch, each from its first `@@` (or its `Binary files` line) to the next file's header.
    static func splitPatch(_ data: Data) -> [String] {
        let text = String(decoding: data, as: UTF8.self)
        var pieces: [String] = []
        var current: [Substring]?
        var inBody = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("diff --git ") {
                if let current { pieces.append(current.joined(separator: "\n") + (current.isEmpty ? "" : "\n")) }
                current = []
                inBody = false
                continue
            }
            guard current != nil else { continue }
            if !inBody, line.hasPrefix("@@") || line.hasPrefix("Binary files ") { inBody = true }
            if inBody { current?.append(line) }
        }
        if var current {
            while current.last == "" { current.removeLast() }
            pieces.append(current.joined(separator: "\n") + (current.isEmpty ? "" : "\n"))
        }
        return pieces
    }
}
