import ArgumentParser
import Hummingbird
import LatchkeyServer
import Logging

/// `latchkey serve`: runs the server (and its embedded runners) until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the Latchkey server.")

    @OptionGroup var options: SettingsOptions

    func run() async throws {
        let settings = try await options.settings()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        ParentWatch.exitWhenParentDies()
        let app = try await buildApplication(settings: settings, embeddedRunner: EmbeddedRunnerFactory.make)
        try await app.runService()
    }
}
