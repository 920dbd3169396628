import ArgumentParser
import Foundation
import LatchkeyRunner
import Logging
import ServiceLifecycle

/// `latchkey runner`: a runner that talks to any Latchkey (or GitLab-style) server over HTTP.
struct RunnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runner", abstract: "Register and run a job runner.", subcommands: [Register.self, Run.self, Unregister.self])

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a runner with a registration token and write its config file.")

        @Option(help: "The server's URL.") var url: String
        @Option(help: "The instance's runner registration token (`latchkey admin registration-token`).") var registrationToken: String
        @Option(help: "A description shown to administrators.") var description: String = ProcessInfo.processInfo.hostName
        @Option(help: "Comma-separated tags this runner accepts.") var tagList: String = ""
        @Flag(inversion: .prefixedNo, help: "Whether the runner also takes jobs without tags.") var runUntagged: Bool = true
        @Option(help: "Where to write the config (mode 0600).") var config: String = Register.defaultConfig

        /// The config file `register` writes and `run` and `unregister` read unless told otherwise.
        static let defaultConfig = "latchkey-runner.json"

        func run() async throws {
            let tags = tagList.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let configuration = try await RunnerRegistration.register(
                url: url, registrationToken: registrationToken, description: description, tags: tags, runUntagged: runUntagged)
            try configuration.save(to: config)
            print("Registered runner \(configuration.id.map(String.init) ?? "?"); config written to \(config)")
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ask the server for jobs and run them until SIGTERM or SIGINT.")

        @Option(help: "A config file from `runner register`.") var config: String?
        @Option(help: "The server's URL (instead of --config).") var url: String?
        @Option(help: "The runner token, glrt-… (instead of --config; or LATCHKEY_RUNNER_TOKEN).") var token: String?
        @Option(help: "How many jobs to run at once.") var concurrent: Int?
        @OptionGroup(title: "Job isolation") var isolation: RunnerExecutorOptions

        func run() async throws {
            var configuration: RunnerConfiguration
            var configPath = config
            if configPath == nil, url == nil, FileManager.default.fileExists(atPath: Register.defaultConfig) { configPath = Register.defaultConfig }
            if let configPath {
                configuration = try RunnerConfiguration.load(from: configPath)
            } else if let url, let token = token ?? ProcessInfo.processInfo.environment["LATCHKEY_RUNNER_TOKEN"] {
                configuration = RunnerConfiguration(url: url, token: token)
            } else {
                throw ValidationError("give --config (default \(Register.defaultConfig)), or --url with --token (or LATCHKEY_RUNNER_TOKEN)")
            }
            CredentialEnvironment.scrub()
            if let concurrent {
                guard concurrent > 0 else { throw ValidationError("--concurrent must be at least 1") }
                configuration.concurrent = concurrent
            }
            if let executor = try isolation.resolvedExecutor() { configuration.executor = executor }
            if let range = try isolation.resolvedJobUIDRange() { configuration.jobUIDRange = range }
            if let buildsDir = isolation.resolvedBuildsDirectory { configuration.buildsDirectory = buildsDir }
            LoggingSystem.bootstrap(StreamLogHandler.standardError)
            let logger = Logger(label: "latchkey.runner")
            // The config file holds the runner's token: a job must not find it, wherever it lies.
            let hidden = configPath.map { [URL(fileURLWithPath: $0).standardizedFileURL.path] } ?? []
            let service = try RunnerService(configuration: configuration, logger: logger, hiddenPaths: hidden)
            let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            try await group.run()
        }
    }

    struct Unregister: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete the runner on the server; its token stops working.")

        @Option(help: "The config file from `runner register`.") var config: String = Register.defaultConfig

        func run() async throws {
            try await RunnerRegistration.unregister(try RunnerConfiguration.load(from: config))
            // The token is dead; the file would only mislead a later `runner run`.
            try? FileManager.default.removeItem(atPath: config)
            print("Runner unregistered; \(config) removed.")
        }
    }
}
