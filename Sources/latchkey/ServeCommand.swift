import ArgumentParser
import Foundation
import Hummingbird
import LatchkeyServer
import Logging

/// `latchkey serve`: runs the server (and its embedded runners) until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the Latchkey server.")

    @OptionGroup var options: InstanceOptions
    @OptionGroup(title: "Server") var serveOptions: ServeOptions
    @OptionGroup(title: "Embedded runners") var runnerOptions: RunnerExecutorOptions
    @Option(help: ArgumentHelp("Log lines as text or as one JSON object each (LATCHKEY_LOG_FORMAT; default text).", valueName: "text|json")) var logFormat: String?

    static func logFormat(_ flag: String?) throws -> String {
        let format = (flag ?? ProcessInfo.processInfo.environment["LATCHKEY_LOG_FORMAT"] ?? "text").lowercased()
        guard format == "text" || format == "json" else { throw ValidationError("--log-format must be text or json, not \(format)") }
        return format
    }

    func run() async throws {
        // Everything the server writes (database, keys, traces, repositories) is the server's alone.
        umask(0o077)
        let settings = try await options.settings(serveOptions)
        CredentialEnvironment.scrub()
        var factory = EmbeddedRunnerFactory(dataDirectory: settings.dataDirectory.path)
        factory.executor = try runnerOptions.resolvedExecutor() ?? .sandbox
        factory.jobUIDRange = try runnerOptions.resolvedJobUIDRange() ?? .default
        factory.buildsDirectory = runnerOptions.resolvedBuildsDirectory
        factory.shutdownTimeout = Int(settings.shutdownTimeout.components.seconds)
        if let builds = factory.buildsDirectory, Self.isInside(builds, settings.dataDirectory.path) {
            throw ValidationError("--builds-dir must lie outside the data directory, which jobs must never see")
        }
        if settings.embeddedRunners > 0 { try factory.validate() }
        let json = (try Self.logFormat(logFormat)) == "json"
        LoggingSystem.bootstrap { label in
            if json { return JSONLogHandler(label: label, logLevel: settings.logLevel) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        ParentWatch.exitWhenParentDies()
        FileDescriptorLimit.raise(logger: Logger(label: "latchkey"))
        let lock = settings.databaseURL == nil ? try DataDirectoryLock.acquire(settings.dataDirectory) : nil
        DataDirectoryPermissions.warnIfWide(settings.dataDirectory, logger: Logger(label: "latchkey"))
        let status = try await ServerLauncher(settings: settings, embeddedRunner: factory.make).run()
        if status != 0 { throw ExitCode(status) }
        withExtendedLifetime(lock) {}
    }

    static func isInside(_ path: String, _ directory: String) -> Bool {
        let path = URL(fileURLWithPath: path).standardizedFileURL.path, directory = URL(fileURLWithPath: directory).standardizedFileURL.path
        return path == directory || path.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/")
    }
}
