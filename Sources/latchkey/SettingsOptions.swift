import ArgumentParser
import Configuration
import Foundation
import LatchkeyServer
import Logging
import SystemPackage

/// The options every command that works on an instance takes: where it is. Each falls back to an environment variable, then to the
/// settings file, then to a default.
struct InstanceOptions: ParsableArguments {
    @Option(help: "Where Latchkey keeps its database, repositories and secrets (LATCHKEY_DATA_DIR; default ./latchkey-data).") var dataDir: String?
    @Option(help: "postgres://user:password@host:port/database to use PostgreSQL; unset for SQLite in the data dir (LATCHKEY_DATABASE_URL).")
    var databaseURL: String?
    @Option(help: "A YAML (.yaml, .yml) or JSON settings file; `latchkey config example` prints one (LATCHKEY_CONFIG).") var config: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical, any case (LATCHKEY_LOG_LEVEL; default info).") var logLevel: String?
}

/// The options only `serve` takes: how it listens and what it runs.
struct ServeOptions: ParsableArguments {
    @Option(help: "Address to listen on (LATCHKEY_HOST; default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (LATCHKEY_PORT; default 8080).") var port: Int?
    @Option(help: "The URL clients and jobs use to reach this server (LATCHKEY_EXTERNAL_URL; default http://HOST:PORT).") var externalURL: String?
    @Option(help: "Embedded runners to start; 0 for none (LATCHKEY_RUNNERS; default 1).") var runners: Int?
    @Option(help: ArgumentHelp("Tags of the embedded runners, comma-separated; they also run untagged jobs (LATCHKEY_RUNNER_TAGS; default none).", valueName: "tag,tag"))
    var runnerTags: String?
    @Option(help: "host:port of a container registry configured to trust this server's tokens (LATCHKEY_REGISTRY; default none).") var registry: String?
    @Option(help: "jwt (mint signed job tokens, still accept opaque ones), jwt_only (refuse opaque ones) or opaque (LATCHKEY_JOB_TOKEN_FORMAT; default jwt).")
    var jobTokenFormat: String?
    @Option(help: "Seconds SIGTERM gives embedded runners to finish or cancel their jobs before the server exits (LATCHKEY_SHUTDOWN_TIMEOUT; default 30).")
    var shutdownTimeout: Int?
    @Option(help: "Seconds a connection may send nothing while its request is incomplete, or between requests, before it is closed (LATCHKEY_IDLE_TIMEOUT; default 60).")
    var idleTimeout: Int?
    @Option(help: "Git processes (clones, fetches, pushes, archives) one job, user or anonymous address may run at once; more wait 10 s, then 429 (LATCHKEY_GIT_PROCESSES_PER_CREDENTIAL; default 8).")
    var gitProcessesPerCredential: Int?
}

extension InstanceOptions {
    /// Flags first, then `LATCHKEY_*` environment variables, then the settings file.
    func settings(_ serve: ServeOptions? = nil) async throws -> ServerSettings {
        var providers: [any ConfigProvider] = [EnvironmentVariablesProvider(secretsSpecifier: .specific(["LATCHKEY_ROOT_TOKEN", "LATCHKEY_ROOT_PASSWORD", "LATCHKEY_DATABASE_URL"]))]
        try SettingsFileSchema.validateEnvironment()
        if let file = config ?? ProcessInfo.processInfo.environment["LATCHKEY_CONFIG"] {
            try SettingsFileSchema.validate(fileAt: file)
            if SettingsFileSchema.isYAML(file) {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(file)))
            } else {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file)))
            }
        }
        let reader = ConfigReader(providers: providers)
        var settings = ServerSettings()
        settings.host = serve?.host ?? reader.string(forKey: "latchkey.host") ?? settings.host
        settings.port = serve?.port ?? reader.int(forKey: "latchkey.port") ?? settings.port
        let dataDir = dataDir ?? reader.string(forKey: "latchkey.data_dir") ?? "latchkey-data"
        settings.dataDirectory = URL(fileURLWithPath: dataDir, isDirectory: true).standardizedFileURL
        settings.databaseURL = databaseURL ?? reader.string(forKey: "latchkey.database_url", isSecret: true)
        settings.externalURL = serve?.externalURL ?? reader.string(forKey: "latchkey.external_url")
        settings.embeddedRunners = serve?.runners ?? reader.int(forKey: "latchkey.runners") ?? settings.embeddedRunners
        if let tags = serve?.runnerTags ?? reader.string(forKey: "latchkey.runner_tags") {
            settings.embeddedRunnerTags = try Self.tags(tags)
        }
        settings.registryAddress = serve?.registry ?? reader.string(forKey: "latchkey.registry")
        if let format = serve?.jobTokenFormat ?? reader.string(forKey: "latchkey.job_token_format") {
            guard let parsed = JobTokenFormat(rawValue: format.lowercased()) else {
                throw ValidationError("unknown job token format \(format.prefix(40)): use jwt, jwt_only or opaque")
            }
            settings.jobTokenFormat = parsed
        }
        settings.rootToken = reader.string(forKey: "latchkey.root_token", isSecret: true)
        settings.rootPassword = reader.string(forKey: "latchkey.root_password", isSecret: true)
        if let level = logLevel ?? reader.string(forKey: "latchkey.log_level") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw ValidationError("unknown log level \(level): use trace, debug, info, notice, warning, error or critical")
            }
            settings.logLevel = parsed
        }
        if let seconds = serve?.shutdownTimeout ?? reader.int(forKey: "latchkey.shutdown_timeout") {
            guard (0...3600).contains(seconds) else { throw ValidationError("shutdown timeout must be between 0 and 3600 seconds") }
            settings.shutdownTimeout = .seconds(seconds)
        }
        if let seconds = serve?.idleTimeout ?? reader.int(forKey: "latchkey.idle_timeout") {
            guard (1...3600).contains(seconds) else { throw ValidationError("idle timeout must be between 1 and 3600 seconds") }
            settings.idleTimeout = .seconds(seconds)
        }
        if let count = serve?.gitProcessesPerCredential ?? reader.int(forKey: "latchkey.git_processes_per_credential") {
            guard (1...10_000).contains(count) else { throw ValidationError("git processes per credential must be between 1 and 10000") }
            settings.gitProcessesPerCredential = count
        }
        guard (0...65535).contains(settings.port) else { throw ValidationError("port must be between 0 and 65535") }
        if let external = settings.externalURL {
            guard let url = URL(string: external), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host?.isEmpty == false
            else { throw ValidationError("external URL \(external) is not an http:// or https:// URL with a host") }
        }
        guard settings.embeddedRunners >= 0 else { throw ValidationError("runners must be 0 or more") }
        return settings
    }

    /// A runner tag list as `gitlab-runner register --tag-list` takes it: comma-separated, blanks dropped, each a plain name.
    static func tags(_ text: String) throws -> [String] {
        let tags = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for tag in tags where tag.count > 255 || tag.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw ValidationError("runner tag \(tag.prefix(40)) is not a tag: at most 255 characters, no control characters")
        }
        return Array(NSOrderedSet(array: tags)) as? [String] ?? tags
    }
}
