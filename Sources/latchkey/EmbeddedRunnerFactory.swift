import Foundation
import LatchkeyRunner
import Logging
import ServiceLifecycle

/// Makes the runners `serve --runners N` starts: ordinary runners talking to the server over HTTP.
enum EmbeddedRunnerFactory {
    @Sendable static func make(url: String, token: String) -> any Service {
        let configuration = RunnerConfiguration(url: url, token: token, concurrent: 1, name: "embedded")
        do {
            return try RunnerService(configuration: configuration, logger: Logger(label: "latchkey.runner"))
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
