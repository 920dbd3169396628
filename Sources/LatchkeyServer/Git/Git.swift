import Foundation
import LatchkeyCore
import NIOPosix

/// Runs the `git` command line (never through a shell).
enum Git {
    struct Failure: Error {
        var status: Int32
    }

    /// A pool just for blocking pipe I/O with git processes, so they never starve the database's threads.
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    static func run(_ arguments: [String], environment: [String: String] = [:], input: [UInt8]? = nil) async throws -> String {
        String(decoding: try await runData(arguments, environment: environment, input: input), as: UTF8.self)
    }

    /// `input`, when given, is the child's standard input.
    static func runData(_ arguments: [String], environment: [String: String] = [:], input: [UInt8]? = nil) async throws -> Data {
        try await pool.runIfActive {
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GIT_") }.merging(environment) { $1 }
            environment["PATH"] = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            let (status, output) = try Subprocess.run(command(arguments), environment: environment, input: input)
            guard status == 0 else { throw Failure(status: status) }
            return Data(output)
        }
    }

    /// `git` with `arguments`, killed with the server (so none outlives a crash).
    static func command(_ arguments: [String]) -> [String] {
        Subprocess.killedWithParent(["/usr/bin/env", "git"] + arguments)
    }

    /// `git http-backend` started as itself, not through the `git` wrapper, which would run it as a child of its own that
    /// the parent-death signal does not reach.
    static let httpBackend: [String] = {
        let execPath = (try? Subprocess.run(["/usr/bin/env", "git", "--exec-path"], environment: childEnvironment))
            .flatMap { $0.status == 0 ? String(decoding: $0.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : nil }
        guard let execPath, execPath.hasPrefix("/"), FileManager.default.isExecutableFile(atPath: execPath + "/git-http-backend") else {
            return command(["http-backend"])
        }
        return Subprocess.killedWithParent([execPath + "/git-http-backend"])
    }()

    /// A ref or sha that cannot be mistaken for an option or a revision expression.
    static func isSafeRef(_ ref: String) -> Bool {
        GitRefName.isSafeArgument(ref)
    }
}
