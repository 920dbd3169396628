import Foundation
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// The real `latchkey` binary as an administrator meets it: versions, settings mistakes, a second server on one data directory.
@Suite("Command line")
struct CommandLineTests {
    static let binary = LiveServer.packageRoot.appendingPathComponent(".build/debug/latchkey").path

    struct Run {
        var status: Int32
        var output: String
    }

    /// Runs the binary to its end (at most 60 s) with `environment` added to this process's, stdout and stderr together.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        merged["LATCHKEY_PARENT_PID"] = String(getpid())
        let (status, output) = try Subprocess.collect([binary] + arguments, environment: merged, error: .output)
        return Run(status: status, output: String(decoding: output, as: UTF8.self))
    }

    static func settingsFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-settings-\(UUID().uuidString).json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func scratchDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-cli-\(UUID().uuidString)").path
    }

    @Test("--version names Latchkey's release and the GitLab API it follows")
    func version() throws {
        let result = try Self.run(["--version"])
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("latchkey 0.2.0 (GitLab API 17.11.0)"), "\(result.output)")
    }

    @Test(
        "a settings file with an unknown key, a wrong type or broken JSON stops the start with the key and the file named",
        arguments: [
            (#"{"latchkey": {"dataDir": "x"}}"#, #"unknown key "latchkey.dataDir""#),
            (#"{"latchkey": {"port": "18095"}}"#, #""latchkey.port" must be an integer, not the string "18095""#),
            (#"{"latchkey": {"port": true}}"#, #""latchkey.port" must be an integer"#),
            (#"{"latchkey": {"log_level": 3}}"#, #""latchkey.log_level" must be a string"#),
            (#"{"port": 8080}"#, #"unknown top-level key "port""#),
            (#"{"latchkey": {"port": 80"#, "not valid JSON"),
        ])
    func strictSettingsFile(file: String, message: String) throws {
        let path = try Self.settingsFile(file)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Self.run(["migrate", "--config", path, "--data-dir", Self.scratchDirectory()])
        #expect(result.status != 0)
        #expect(result.output.contains(message), "\(result.output)")
        #expect(result.output.contains(path), "\(result.output)")
        #expect(!result.output.contains("NSCocoaErrorDomain"), "\(result.output)")
    }

    @Test("bad values from flags and the environment are refused; log levels are case-insensitive")
    func values() throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let url = try Self.run(["serve", "--data-dir", directory, "--external-url", "not-a-url"])
        #expect(url.status != 0 && url.output.contains("external URL not-a-url"), "\(url.output)")
        let port = try Self.run(["migrate", "--data-dir", directory], environment: ["LATCHKEY_PORT": "eighty"])
        #expect(port.status != 0 && port.output.contains("LATCHKEY_PORT=eighty is not an integer"), "\(port.output)")
        let level = try Self.run(["migrate", "--data-dir", directory], environment: ["LATCHKEY_LOG_LEVEL": "DEBUG"])
        #expect(level.status == 0, "\(level.output)")
    }

    @Test("config example prints a commented YAML settings file with every key that serve then accepts as it is")
    func configExample() throws {
        let example = try Self.run(["config", "example"])
        #expect(example.status == 0, "\(example.output)")
        for key in ["host", "port", "data_dir", "database_url", "external_url", "runners", "runner_tags", "registry", "log_level", "shutdown_timeout", "root_token", "root_password"] {
            #expect(example.output.contains(" \(key):"), "\(key) missing from\n\(example.output)")
        }
        #expect(example.output.contains("# port to listen on"))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-example-\(UUID().uuidString).yaml").path
        try Data(example.output.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let migrate = try Self.run(["migrate", "--config", path, "--data-dir", directory])
        #expect(migrate.status == 0, "\(migrate.output)")
    }

    @Test(
        "a YAML settings file is held to the same schema as a JSON one",
        arguments: [
            ("latchkey:\n  dataDir: x\n", #"unknown key "latchkey.dataDir""#),
            ("latchkey:\n  port: \"18095\"\n", #""latchkey.port" must be an integer, not the string "18095""#),
            ("latchkey:\n  port: true\n", #""latchkey.port" must be an integer"#),
            ("port: 8080\n", #"unknown top-level key "port""#),
            ("latchkey: [1, 2\n", "not valid YAML"),
            ("latchkey:\n  log_level: LOUD\n", "unknown log level LOUD"),
        ])
    func strictYAMLSettingsFile(file: String, message: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-settings-\(UUID().uuidString).yml").path
        try Data(file.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Self.run(["migrate", "--config", path, "--data-dir", Self.scratchDirectory()])
        #expect(result.status == 64, "\(result.output)")
        #expect(result.output.contains(message), "\(result.output)")
    }

    @Test("a bad value is refused with the subcommand's own usage and exit code 64; a runtime failure is one line and exit code 1")
    func usageOfTheSubcommand() throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try Self.run(["serve", "--data-dir", directory, "--port", "99999"])
        #expect(port.status == 64, "\(port.output)")
        #expect(port.output.contains("Error: port must be between 0 and 65535"), "\(port.output)")
        #expect(port.output.contains("Usage: latchkey serve ") && port.output.contains("See 'latchkey serve --help'"), "\(port.output)")
        let scope = try Self.run(["admin", "scope", "frob", "group/p", "--data-dir", directory])
        #expect(scope.status == 64 && scope.output.contains("See 'latchkey admin scope --help'"), "\(scope.output)")
        let tags = try Self.run(["serve", "--data-dir", directory, "--runner-tags", "a,\u{1}b"])
        #expect(tags.status == 64 && tags.output.contains("is not a tag"), "\(tags.output)")
        // A data directory that cannot be made: one line naming it, no NSError dump.
        let blocked = directory + "/file"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: blocked, contents: Data())
        let failed = try Self.run(["migrate", "--data-dir", blocked + "/data"])
        #expect(failed.status == 1, "\(failed.output)")
        #expect(failed.output.hasPrefix("Error: ") && !failed.output.contains("Error Domain=") && !failed.output.contains("UserInfo="), "\(failed.output)")
        #expect(failed.output.contains("is not a directory") && failed.output.split(separator: "\n").count == 1, "\(failed.output)")
    }

    @Test("each subcommand's help shows its own options with their defaults")
    func helpPerSubcommand() throws {
        let serve = try Self.run(["serve", "--help"])
        #expect(serve.status == 0)
        for text in ["--port", "default 8080", "--runner-tags", "--shutdown-timeout", "default 30", "--data-dir", "default ./latchkey-data"] {
            #expect(serve.output.contains(text), "\(text) missing from serve --help")
        }
        let migrate = try Self.run(["migrate", "--help"])
        #expect(migrate.output.contains("--database-url") && migrate.output.contains("--data-dir"), "\(migrate.output)")
        for text in ["--port", "--runners", "--runner-tags", "--registry", "--shutdown-timeout", "--executor"] {
            #expect(!migrate.output.contains(text), "migrate --help shows \(text)")
        }
        let token = try Self.run(["admin", "registration-token", "--help"])
        #expect(!token.output.contains("--port") && token.output.contains("--data-dir"), "\(token.output)")
    }

    @Test("serve refuses at once, before touching its database, when its embedded runner could not reach a job's workspace")
    func unusableBuildsDirectory() throws {
        try #require(geteuid() == 0, "job uids exist only for a root runner")
        let scratch = Self.scratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        #expect(chmod(scratch, 0o700) == 0)
        let result = try Self.run(["serve", "--data-dir", scratch + "/data", "--builds-dir", scratch + "/private/builds", "--port", "0"])
        #expect(result.status != 0)
        #expect(result.output.contains("the embedded runner cannot start") && result.output.contains("does not let job uids pass"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch + "/data/latchkey.sqlite3"))
    }

    @Test("a second serve on a data directory a server already uses refuses at once and leaves the first one alone")
    func secondServerRefused() async throws {
        let server = try await LiveServer.shared.start()
        let result = try Self.run(["serve", "--data-dir", server.dataDirectory.path, "--port", "0", "--runners", "0"])
        #expect(result.status != 0)
        #expect(result.output.contains("another latchkey serve (pid \(server.pid)) is using \(server.dataDirectory.path)"), "\(result.output)")
        #expect(try await HTTP.request("GET", "\(server.url)/-/readiness").status == 200)
    }
}
