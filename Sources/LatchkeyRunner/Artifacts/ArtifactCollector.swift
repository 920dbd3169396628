import Foundation

/// Finds the files an `artifacts:paths` list names inside a checkout, never leaving it and never following symbolic links.
///
/// Patterns are relative to the checkout: `file`, `dir/` (the directory and everything in it),
/// `*.txt`, `dir/**/*` (`**` is any number of directories, `*` does not cross `/`). A matched
/// directory brings its whole contents. Symbolic links are collected as links, not followed,
/// so a job cannot make the runner archive files outside its workspace.
struct ArtifactCollector {
    let root: URL

    struct Result: Equatable {
        /// Relative paths to archive, sorted; directories come before their contents.
        var paths: [String]
        /// Per pattern: how many entries it matched.
        var matches: [(pattern: String, count: Int)]
        /// Patterns refused because they leave the checkout.
        var refused: [String]

        static func == (lhs: Result, rhs: Result) -> Bool {
            lhs.paths == rhs.paths && lhs.refused == rhs.refused && lhs.matches.map(\.pattern) == rhs.matches.map(\.pattern)
                && lhs.matches.map(\.count) == rhs.matches.map(\.count)
        }
    }

    func collect(paths patterns: [String], exclude: [String] = []) -> Result {
        var found = Set<String>()
        var matches: [(String, Int)] = []
        var refused: [String] = []
        let excluded = exclude.compactMap(components(of:))
        for pattern in patterns {
            guard let parts = components(of: pattern) else {
                refused.append(pattern)
                continue
            }
            var matched = Set<String>()
            expand(directory: [], pattern: parts[...], into: &matched)
            var entries = Set<String>()
            for path in matched {
                entries.insert(path)
                if FileKind.of(root.path + "/" + path) == .directory { addContents(of: path, into: &entries) }
            }
            entries = entries.filter { path in !excluded.contains { Self.matches($0[...], prefixOf: path) } }
            matches.append((pattern, entries.count))
            found.formUnion(entries)
        }
        return Result(paths: found.sorted(), matches: matches, refused: refused)
    }

    /// The pattern's components, or nil when it is absolute outside the checkout or climbs out with `..`.
    func components(of pattern: String) -> [String]? {
        var text = pattern
        if text.hasPrefix("/") {
            let prefix = root.standardizedFileURL.path + "/"
            guard text.hasPrefix(prefix) else { return nil }
            text.removeFirst(prefix.count)
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        guard !parts.contains(".."), !parts.isEmpty else { return nil }
        return parts
    }

    private func expand(directory: [String], pattern: ArraySlice<String>, into matched: inout Set<String>) {
        guard let first = pattern.first else {
            if !directory.isEmpty { matched.insert(directory.joined(separator: "/")) }
            return
        }
        let rest = pattern.dropFirst()
        let directoryPath = ([root.path] + directory).joined(separator: "/")
        if first == "**" {
            expand(directory: directory, pattern: rest, into: &matched)
            for name in children(of: directoryPath) where FileKind.of(directoryPath + "/" + name) == .directory {
                expand(directory: directory + [name], pattern: pattern, into: &matched)
            }
            return
        }
        let candidates = Self.hasWildcard(first) ? children(of: directoryPath).filter { Self.fnmatch(first, $0) } : [first]
        for name in candidates {
            let kind = FileKind.of(directoryPath + "/" + name)
            guard let kind else { continue }
            if rest.isEmpty {
                matched.insert((directory + [name]).joined(separator: "/"))
            } else if kind == .directory {
                // Only real directories are descended into; a link could point anywhere.
                expand(directory: directory + [name], pattern: rest, into: &matched)
            }
        }
    }

    private func addContents(of path: String, into entries: inout Set<String>) {
        for name in children(of: root.path + "/" + path) {
            let child = path + "/" + name
            entries.insert(child)
            if FileKind.of(root.path + "/" + child) == .directory { addContents(of: child, into: &entries) }
        }
    }

    private func children(of path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    static func hasWildcard(_ component: String) -> Bool {
        component.contains { "*?[".contains($0) }
    }

    static func fnmatch(_ pattern: String, _ name: String) -> Bool {
        Foundation.fnmatch(pattern, name, 0) == 0
    }

    /// Whether `pattern` matches `path` or one of its parent directories (excluding a directory excludes its contents).
    static func matches(_ pattern: ArraySlice<String>, prefixOf path: String) -> Bool {
        let parts = path.split(separator: "/").map(String.init)
        return (1...max(parts.count, 1)).contains { matches(pattern, parts[..<$0]) }
    }

    static func matches(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            return (0...path.count).contains { matches(pattern.dropFirst(), path.dropFirst($0)) }
        }
        guard let name = path.first, fnmatch(first, name) else { return false }
        return matches(pattern.dropFirst(), path.dropFirst())
    }
}
