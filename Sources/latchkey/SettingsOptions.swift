import ArgumentParser
import Configuration
import Foundation
import LatchkeyServer
import Logging
import SystemPackage

/// The options `serve` and `migrate` share; each falls back to an environment variable, then to the settings file, then to a default.
struct SettingsOptions: ParsableArguments {
    @Option(help: "Address to listen on (LATCHKEY_HOST).") var host: String?
    @Option(help: "Port to listen on (LATCHKEY_PORT).") var port: Int?
    @Option(help: "Where Latchkey keeps its database, repositories and secrets (LATCHKEY_DATA_DIR).") var dataDir: String?
    @Option(help: "postgres://user:password@host:port/database to use PostgreSQL; unset for SQLite in the data dir (LATCHKEY_DATABASE_URL).")
    var databaseURL: String?
    @Option(help: "The URL clients and jobs use to reach this server (LATCHKEY_EXTERNAL_URL).") var externalURL: String?
    @Option(help: "Embedded runners to start; 0 for none (LATCHKEY_RUNNERS).") var runners: Int?
    @Option(help: "host:port of a container registry configured to trust this server's tokens (LATCHKEY_REGISTRY).") var registry: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical (LATCHKEY_LOG_LEVEL).") var logLevel: String?
    @Option(help: "Seconds SIGTERM gives embedded runners to finish or cancel their jobs before the server exits (LATCHKEY_SHUTDOWN_TIMEOUT, 30).")
    var shutdownTimeout: Int?
    @Option(help: "A JSON settings file: {\"latchkey\": {\"port\": 8080, ...}} (LATCHKEY_CONFIG).") var config: String?

    /// Flags first, then `LATCHKEY_*` environment variables, then the settings file.
    func settings() async throws -> ServerSettings {
        var providers: [any ConfigProvider] = [EnvironmentVariablesProvider(secretsSpecifier: .specific(["LATCHKEY_ROOT_TOKEN", "LATCHKEY_ROOT_PASSWORD", "LATCHKEY_DATABASE_URL"]))]
        try SettingsFileSchema.validateEnvironment()
        if let file = config ?? ProcessInfo.processInfo.environment["LATCHKEY_CONFIG"] {
            try SettingsFileSchema.validate(fileAt: file)
            providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file)))
        }
        let reader = ConfigReader(providers: providers)
        var settings = ServerSettings()
        settings.host = host ?? reader.string(forKey: "latchkey.host") ?? settings.host
        settings.port = port ?? reader.int(forKey: "latchkey.port") ?? settings.port
        let dataDir = dataDir ?? reader.string(forKey: "latchkey.data_dir") ?? "latchkey-data"
        settings.dataDirectory = URL(fileURLWithPath: dataDir, isDirectory: true).standardizedFileURL
        settings.databaseURL = databaseURL ?? reader.string(forKey: "latchkey.database_url", isSecret: true)
        settings.externalURL = externalURL ?? reader.string(forKey: "latchkey.external_url")
        settings.embeddedRunners = runners ?? reader.int(forKey: "latchkey.runners") ?? settings.embeddedRunners
        settings.registryAddress = registry ?? reader.string(forKey: "latchkey.registry")
        settings.rootToken = reader.string(forKey: "latchkey.root_token", isSecret: true)
        settings.rootPassword = reader.string(forKey: "latchkey.root_password", isSecret: true)
        if let level = logLevel ?? reader.string(forKey: "latchkey.log_level") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw ValidationError("unknown log level \(level): use trace, debug, info, notice, warning, error or critical")
            }
            settings.logLevel = parsed
        }
        if let seconds = shutdownTimeout ?? reader.int(forKey: "latchkey.shutdown_timeout") {
            guard (0...3600).contains(seconds) else { throw ValidationError("shutdown timeout must be between 0 and 3600 seconds") }
            settings.shutdownTimeout = .seconds(seconds)
        }
        guard (0...65535).contains(settings.port) else { throw ValidationError("port must be between 0 and 65535") }
        if let external = settings.externalURL {
            guard let url = URL(string: external), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host?.isEmpty == false
            else { throw ValidationError("external URL \(external) is not an http:// or https:// URL with a host") }
        }
        guard settings.embeddedRunners >= 0 else { throw ValidationError("runners must be 0 or more") }
        return settings
    }
}
