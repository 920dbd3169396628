import ArgumentParser
import Foundation
import Yams

/// The keys a settings file (`latchkey:` in YAML, `{"latchkey": {…}}` in JSON) may hold: anything else is a startup error naming the key.
enum SettingsFileSchema {
    enum Kind: String {
        case string, integer
    }

    /// One setting: its key, type, default as written in a file, and what it does.
    struct Key {
        let name: String
        let kind: Kind
        let example: String
        let help: String
        /// Read only when the instance is created; given later it is ignored with a warning.
        var firstStartOnly = false
        var environment: String { "LATCHKEY_" + name.uppercased() }
    }

    /// Every key of the `latchkey` object, in the order `config example` prints them.
    static let all: [Key] = [
        Key(name: "host", kind: .string, example: "127.0.0.1", help: "address to listen on"),
        Key(name: "port", kind: .integer, example: "8080", help: "port to listen on (0-65535)"),
        Key(name: "data_dir", kind: .string, example: "latchkey-data", help: "database file, repositories, traces, artifacts and secrets (kept 0700)"),
        Key(name: "database_url", kind: .string, example: "", help: "postgres://user:password@host:5432/db for PostgreSQL; empty for SQLite in the data dir"),
        Key(name: "external_url", kind: .string, example: "", help: "the http(s):// URL handed to jobs and clients; empty for http://host:port"),
        Key(name: "runners", kind: .integer, example: "1", help: "embedded (sandboxed) runners; 0 for none"),
        Key(name: "runner_tags", kind: .string, example: "", help: "comma-separated tags of the embedded runners (they also run untagged jobs)"),
        Key(name: "registry", kind: .string, example: "", help: "host:port of a container registry that trusts this server's tokens (CI_REGISTRY)"),
        Key(name: "job_token_format", kind: .string, example: "jwt", help: "jwt (mint signed job tokens, accept opaque ones too), jwt_only, or opaque (mint opaque, accept both)"),
        Key(name: "log_level", kind: .string, example: "info", help: "trace, debug, info, notice, warning, error or critical (any case)"),
        Key(name: "shutdown_timeout", kind: .integer, example: "30", help: "seconds SIGTERM gives running jobs before the server exits (0-3600)"),
        Key(name: "idle_timeout", kind: .integer, example: "60", help: "seconds a connection may stay silent mid-request or between requests before it is closed (1-3600)"),
        Key(name: "git_processes_per_credential", kind: .integer, example: "8", help: "git processes (clones, fetches, pushes, archives) one job, user or anonymous address may run at once; more wait 10 s, then 429 (1-10000)"),
        Key(name: "root_token", kind: .string, example: "", help: "root's personal access token (glpat-…); generated and printed when empty", firstStartOnly: true),
        Key(name: "root_password", kind: .string, example: "", help: "root's password; generated and printed when empty", firstStartOnly: true),
    ]

    /// The type of every key.
    static let keys: [String: Kind] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0.kind) })

    /// Whether `path` names a YAML file (by its extension); anything else is read as JSON.
    static func isYAML(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".yaml") || lower.hasSuffix(".yml")
    }

    /// Checks the file's shape before anything reads it: valid JSON or YAML, one `latchkey` object, known keys, right types.
    static func validate(fileAt path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("settings file \(path): cannot be read")
        }
        let object: Any?
        if isYAML(path) {
            guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("settings file \(path): not UTF-8 text") }
            do {
                object = try Yams.load(yaml: text)
            } catch {
                throw ValidationError("settings file \(path): not valid YAML (\(Self.yamlReason(error)))")
            }
        } else {
            do {
                object = try JSONSerialization.jsonObject(with: data)
            } catch {
                throw ValidationError("settings file \(path): not valid JSON (\(Self.reason(error)))")
            }
        }
        // An empty YAML file (or one of comments only) sets nothing.
        guard let object else { return }
        let shape = isYAML(path) ? "a YAML mapping with a `latchkey:` key" : "a JSON object {\"latchkey\": {…}}"
        guard let top = object as? [String: Any] else { throw ValidationError("settings file \(path): must be \(shape)") }
        if let unknown = top.keys.filter({ $0 != "latchkey" }).sorted().first {
            throw ValidationError("settings file \(path): unknown top-level key \"\(unknown)\"; settings go inside \"latchkey\"")
        }
        guard let settings = top["latchkey"] else { return }
        if isYAML(path), settings is NSNull { return }
        guard let values = settings as? [String: Any] else { throw ValidationError("settings file \(path): \"latchkey\" must be an object") }
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let kind = keys[key] else {
                throw ValidationError(
                    "settings file \(path): unknown key \"latchkey.\(key)\" (known keys: \(all.map(\.name).joined(separator: ", ")))")
            }
            switch kind {
            case .string:
                guard value is String else { throw ValidationError("settings file \(path): \"latchkey.\(key)\" must be a string, not \(describe(value))") }
            case .integer:
                guard isInteger(value) else { throw ValidationError("settings file \(path): \"latchkey.\(key)\" must be an integer, not \(describe(value))") }
            }
        }
    }

    /// Checks that integer environment variables hold integers (a typo must not fall back to a default).
    static func validateEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        for key in all where key.kind == .integer {
            if let text = environment[key.environment], Int(text.trimmingCharacters(in: .whitespaces)) == nil {
                throw ValidationError("\(key.environment)=\(text) is not an integer")
            }
        }
    }

    /// A commented YAML settings file with every key at its default: what `latchkey config example` prints.
    static func example() -> String {
        var lines = [
            "# Latchkey settings: latchkey serve --config latchkey.yaml (or LATCHKEY_CONFIG=latchkey.yaml).",
            "# Precedence: command-line flags, then LATCHKEY_* environment variables, then this file, then the defaults shown.",
            "# An unknown key, a wrong type or an invalid value stops the start with one line naming it.",
            "latchkey:",
        ]
        for key in all {
            lines.append("  # \(key.help)\(key.firstStartOnly ? "; read on the first start only" : "") (\(key.environment))")
            let value = key.kind == .string ? "\"\(key.example)\"" : key.example
            // Keys whose default is "unset" stay commented out: an empty string is not the same as no value everywhere.
            lines.append(key.example.isEmpty ? "  # \(key.name): \"\"" : "  \(key.name): \(value)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func isInteger(_ value: Any) -> Bool {
        // JSON's true and false come back as NSNumber too; only a whole number is an integer here.
        if value is Bool { return false }
        if let number = value as? NSNumber { return !String(describing: type(of: number)).contains("Boolean") && value is Int }
        return value is Int
    }

    private static func describe(_ value: Any) -> String {
        switch value {
        case let text as String: "the string \"\(text.prefix(40))\""
        case is [Any]: "an array"
        case is [String: Any]: "an object"
        case is NSNull: "null"
        default: "\(value)"
        }
    }

    private static func reason(_ error: any Error) -> String {
        let description = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
        return description ?? "unreadable"
    }

    private static func yamlReason(_ error: any Error) -> String {
        // Yams' description spans lines with a caret under the column; the first line says what and where.
        String(describing: error).split(separator: "\n").first.map(String.init) ?? "unreadable"
    }
}
