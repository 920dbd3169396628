import Foundation

/// What a registered runner needs to run: its server, its authentication token and how it runs jobs (a JSON file, mode 0600).
public struct RunnerConfiguration: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The server's base URL, e.g. `http://localhost:8080`.
    public var url: String
    /// The runner authentication token (`glrt-…`).
    public var token: String
    /// The runner's id on the server, when registration returned it.
    public var id: Int64?
    /// When the token expires, as the server reported it.
    public var tokenExpiresAt: String?
    /// Identifies this runner host across restarts (`s_` and 12 hex digits, as GitLab Runner sends).
    public var systemID: String
    /// How many jobs run at the same time.
    public var concurrent: Int
    /// Where job workspaces are created.
    public var buildsDirectory: String
    /// The shell that runs job scripts: `sh` or `bash`.
    public var shell: String
    /// A human name for logs and traces.
    public var name: String
    /// An unprivileged user that runs job processes when the runner itself runs as root.
    public var jobUser: String?
    /// Seconds running jobs may take to finish after a graceful shutdown starts, before they are aborted.
    public var shutdownTimeout: Int
    /// How jobs are isolated: `sandbox` (bubblewrap, the default) or `shell-unsafe`.
    public var executor: ExecutorKind
    /// The uids a root runner gives its concurrent jobs, one each (sandbox executor).
    public var jobUIDRange: JobUIDRange

    public init(
        url: String, token: String, id: Int64? = nil, tokenExpiresAt: String? = nil, systemID: String = RunnerConfiguration.makeSystemID(),
        concurrent: Int = 1, buildsDirectory: String? = nil, shell: String = "sh",
        name: String = RunnerConfiguration.defaultName, jobUser: String? = nil, shutdownTimeout: Int = 300, executor: ExecutorKind = .sandbox,
        jobUIDRange: JobUIDRange = .default
    ) {
        self.url = url
        self.token = token
        self.id = id
        self.tokenExpiresAt = tokenExpiresAt
        self.systemID = systemID
        self.concurrent = concurrent
        self.buildsDirectory = buildsDirectory ?? RunnerConfiguration.defaultBuildsDirectory(systemID: systemID)
        self.shell = shell
        self.name = name
        self.jobUser = jobUser
        self.shutdownTimeout = shutdownTimeout
        self.executor = executor
        self.jobUIDRange = jobUIDRange
    }

    /// `latchkey-builds-<system id>` under the system's temporary directory: one per runner, never shared by two of them,
    /// and outside any server's data directory.
    public static func defaultBuildsDirectory(systemID: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-builds-\(systemID)", isDirectory: true).path
    }

    /// The host name.
    public static var defaultName: String { ProcessInfo.processInfo.hostName }

    /// A fresh system id: `s_` and 12 random hex digits.
    public static func makeSystemID() -> String {
        "s_" + (0..<12).map { _ in String(Int.random(in: 0..<16), radix: 16) }.joined()
    }

    // The token never appears in logs (STYLE 15).
    public var description: String {
        "RunnerConfiguration(url: \(url), token: \(RunnerConfiguration.redacted(token)), name: \(name), concurrent: \(concurrent), executor: \(executor.rawValue))"
    }

    static func redacted(_ token: String) -> String {
        let prefix = SecretPrefix.of(token)
        return "\(prefix)…[REDACTED]"
    }

    private enum CodingKeys: String, CodingKey {
        case url, token, id, tokenExpiresAt, systemID = "systemId", concurrent, buildsDirectory, shell, name, jobUser, shutdownTimeout, executor
        case jobUIDRange = "jobUidRange"
    }

    // Missing keys take their defaults, so a hand-written file may hold only `url` and `token`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let systemID = try container.decodeIfPresent(String.self, forKey: .systemID) ?? RunnerConfiguration.makeSystemID()
        self.init(
            url: try container.decode(String.self, forKey: .url),
            token: try container.decode(String.self, forKey: .token),
            id: try container.decodeIfPresent(Int64.self, forKey: .id),
            tokenExpiresAt: try container.decodeIfPresent(String.self, forKey: .tokenExpiresAt),
            systemID: systemID,
            concurrent: try container.decodeIfPresent(Int.self, forKey: .concurrent) ?? 1,
            buildsDirectory: try container.decodeIfPresent(String.self, forKey: .buildsDirectory),
            shell: try container.decodeIfPresent(String.self, forKey: .shell) ?? "sh",
            name: try container.decodeIfPresent(String.self, forKey: .name) ?? RunnerConfiguration.defaultName,
            jobUser: try container.decodeIfPresent(String.self, forKey: .jobUser),
            shutdownTimeout: try container.decodeIfPresent(Int.self, forKey: .shutdownTimeout) ?? 300,
            executor: try container.decodeIfPresent(ExecutorKind.self, forKey: .executor) ?? .sandbox,
            jobUIDRange: try container.decodeIfPresent(JobUIDRange.self, forKey: .jobUIDRange) ?? .default
        )
    }
}

extension RunnerConfiguration {
    /// Reads a configuration file (snake_case JSON keys).
    public static func load(from path: String) throws -> RunnerConfiguration {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(RunnerConfiguration.self, from: data)
        } catch {
            throw RunnerError.invalidConfiguration("\(path): \(error)")
        }
    }

    /// Writes the configuration with mode 0600 (it holds the runner token), replacing the file atomically.
    public func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        let target = URL(fileURLWithPath: path)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).\(UInt32.random(in: 0...UInt32.max))")
        try PrivateFile.write(Array(data) + [0x0A], to: temporary.path)
        do {
            guard rename(temporary.path, target.path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            unlink(temporary.path)
            throw error
        }
    }
}

/// The recognisable prefix of a token (`glrt-`), or nothing, for redacted descriptions.
enum SecretPrefix {
    static func of(_ token: String) -> String {
        guard let dash = token.firstIndex(of: "-"), token.distance(from: token.startIndex, to: dash) <= 8 else { return "" }
        return String(token[...dash])
    }
}
