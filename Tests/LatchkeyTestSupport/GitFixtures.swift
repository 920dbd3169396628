import Foundation
import LatchkeyCore

/// Real `git`, for tests that need commits in a project's bare repository.
public enum GitFixtures {
    /// Runs git; throws with its output when it fails.
    @discardableResult
    public static func git(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> String {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GIT_") }
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["GIT_AUTHOR_NAME"] = "Test"
        env["GIT_AUTHOR_EMAIL"] = "test@example.com"
        env["GIT_COMMITTER_NAME"] = "Test"
        env["GIT_COMMITTER_EMAIL"] = "test@example.com"
        env.merge(environment) { $1 }
        // posix_spawn, not Foundation's `Process`, whose `run()` can crash the test process (swift-corelibs-foundation #5472).
        let (status, output) = try Subprocess.run(["/usr/bin/env", "git"] + arguments, environment: env, directory: directory?.path, error: .output)
        let text = String(decoding: output, as: UTF8.self)
        guard status == 0 else { throw GitFailure(arguments: arguments, output: text) }
        return text
    }

    /// Commits `files` on `branch` of the bare repository at `repository` (no server involved) and returns the commit.
    @discardableResult
    public static func commit(_ files: [String: String], to repository: URL, branch: String = "main", message: String = "change") throws -> String {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-work-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: work) }
        try git(["clone", "--quiet", repository.path, work.path])
        if (try? git(["rev-parse", "--verify", "origin/\(branch)"], in: work)) != nil {
            try git(["checkout", "--quiet", "-B", branch, "origin/\(branch)"], in: work)
        } else {
            try git(["checkout", "--quiet", "--orphan", branch], in: work)
        }
        for (path, content) in files {
            let url = work.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url)
        }
        try git(["add", "--all"], in: work)
        try git(["commit", "--quiet", "--allow-empty", "-m", message], in: work)
        try git(["push", "--quiet", "origin", "HEAD:refs/heads/\(branch)"], in: work)
        return try git(["rev-parse", "HEAD"], in: work).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A git command that failed, with what it printed.
public struct GitFailure: Error, CustomStringConvertible {
    public var arguments: [String]
    public var output: String
    public var description: String { "git \(arguments.joined(separator: " ")) failed: \(output)" }
}

/// Runs blocking work (a child process waited on synchronously) on a plain thread, so it never holds one of the few
/// threads Swift concurrency runs every test's tasks on.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}
