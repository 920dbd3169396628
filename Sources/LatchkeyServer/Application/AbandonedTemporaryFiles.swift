import Foundation

/// Temporary files a crash or a killed request left behind: upload halves under the data directory, and a push's log, rules
/// and token-scan FIFOs in the system's temporary directory. Each is removed once it has not changed for a day (an upload in
/// progress keeps writing; a push's files live only as long as the push).
enum AbandonedTemporaryFiles {
    static let age: TimeInterval = 24 * 3600
    static let systemPrefixes = ["latchkey-push-", "latchkey-scan-", "latchkey-readme-", "latchkey-index-"]

    /// Removes the entries directly in `directory` named with one of `prefixes` and last modified before `cutoff`; returns how many.
    @discardableResult
    static func sweep(_ directory: URL, prefixes: [String], before cutoff: Date) -> Int {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: directory.path) else { return 0 }
        var removed = 0
        for name in names where prefixes.contains(where: name.hasPrefix) {
            let url = directory.appendingPathComponent(name)
            // lstat: a link's own time, and the link itself is what gets removed.
            var info = stat()
            guard lstat(url.path, &info) == 0, Double(info.st_mtim.tv_sec) < cutoff.timeIntervalSince1970 else { continue }
            if (try? manager.removeItem(at: url)) != nil { removed += 1 }
        }
        return removed
    }
}

extension ServerEnvironment {
    /// Sweeps every place Latchkey writes temporary files; returns how many it removed.
    @discardableResult
    func sweepAbandonedTemporaryFiles(now: Date) -> Int {
        let cutoff = now.addingTimeInterval(-AbandonedTemporaryFiles.age)
        let uploads = ["upload-"]
        return AbandonedTemporaryFiles.sweep(artifacts.root.appendingPathComponent("tmp"), prefixes: uploads, before: cutoff)
            + AbandonedTemporaryFiles.sweep(packages.root.appendingPathComponent("tmp"), prefixes: uploads, before: cutoff)
            + AbandonedTemporaryFiles.sweep(FileManager.default.temporaryDirectory, prefixes: AbandonedTemporaryFiles.systemPrefixes, before: cutoff)
    }
}
