import ArgumentParser
import Foundation
import LatchkeyRunner
import Logging
import ServiceLifecycle

/// Makes the runners `serve --runners N` starts: ordinary runners talking to the server over HTTP, sandboxed by default.
struct EmbeddedRunnerFactory: Sendable {
    var executor: ExecutorKind = .sandbox
    var jobUIDRange: JobUIDRange = .default
    var buildsDirectory: String?
    /// Seconds a running job may go on after SIGTERM before it is aborted: the server's drain bound, not a standalone runner's 300.
    var shutdownTimeout = 30
    /// The server's data directory: never visible to a job, wherever it lies.
    var dataDirectory: String

    /// Fails with the reason when the embedded runners could not run jobs as configured (checked before the server starts).
    func validate() throws {
        do {
            try RunnerService.validate(configuration(url: "http://127.0.0.1", token: ""), hiddenPaths: [dataDirectory])
        } catch let error as RunnerError {
            throw ValidationError("the embedded runner cannot start: \(error) (or run serve --runners 0 and a runner elsewhere)")
        }
    }

    private func configuration(url: String, token: String) -> RunnerConfiguration {
        var configuration = RunnerConfiguration(url: url, token: token, concurrent: 1, name: "embedded", executor: executor, jobUIDRange: jobUIDRange)
        configuration.shutdownTimeout = shutdownTimeout
        if let buildsDirectory {
            // Several embedded runners share the directory; each job's workspace inside it has a name of its own.
            configuration.buildsDirectory = buildsDirectory
        }
        return configuration
    }

    @Sendable func make(url: String, token: String) -> any Service {
        let configuration = configuration(url: url, token: token)
        do {
            return try RunnerService(configuration: configuration, logger: Logger(label: "latchkey.runner"), hiddenPaths: [dataDirectory])
        } catch {
            return FailedService(error: error)
        }
    }
}

/// A service that fails at once, so a runner that cannot start stops the server with its reason.
struct FailedService: Service {
    let error: any Error
    func run() async throws { throw error }
}
