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

    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        String(decoding: try await runData(arguments, environment: environment), as: UTF8.self)
    }

    static func runData(_ arguments: [String], environment: [String: String] = [:]) async throws -> Data {
        try await pool.runIfActive {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git"] + arguments
            var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GIT_") }
            env.merge(environment) { $1 }
            process.environment = env
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw Failure(status: process.terminationStatus) }
            return data
        }
    }

    /// A ref or sha that cannot be mistaken for an option or a revision expression.
    static func isSafeRef(_ ref: String) -> Bool {
        GitRefName.isSafeArgument(ref)
    }
}
