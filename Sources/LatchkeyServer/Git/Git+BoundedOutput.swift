import Foundation
import LatchkeyCore

extension Git {
    /// A git command's output went past the bound its caller set: the child was killed.
    struct OutputTooLarge: Error {
        var limit: Int
    }

    /// The environment every git child gets: ours without `GIT_*` variables, so no caller's setting redirects a repository.
    static var childEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GIT_") }
        environment["PATH"] = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return environment
    }

    /// Runs git and returns at most `limit` bytes of its standard output; a child that writes more is killed and
    /// `OutputTooLarge` thrown, so an enormous tree or diff costs bounded memory and time.
    static func runData(_ arguments: [String], limit: Int) async throws -> Data {
        try await pool.runIfActive {
            let process = try Subprocess(command(arguments), environment: childEnvironment)
            var output: [UInt8] = []
            while true {
                let chunk = try process.read()
                if chunk.isEmpty { break }
                output += chunk
                if output.count > limit {
                    process.signal(SIGKILL)
                    process.waitForExit()
                    throw OutputTooLarge(limit: limit)
                }
            }
            let status = process.waitForExit()
            guard status == 0 else { throw Failure(status: status) }
            return Data(output)
        }
    }

    /// Starts git with its standard output as a pipe to stream from (archives); the caller reads, bounds and waits.
    static func start(_ arguments: [String]) throws -> Subprocess {
        try Subprocess(command(arguments), environment: childEnvironment)
    }
}
