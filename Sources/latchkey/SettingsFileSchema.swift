import ArgumentParser
import Foundation

/// The keys a settings file (`{"latchkey": {…}}`) may hold and their types: anything else is a startup error naming the key.
enum SettingsFileSchema {
    enum Kind: String {
        case string, integer
    }

    /// Every key of the `latchkey` object, with its type.
    static let keys: [String: Kind] = [
        "host": .string, "port": .integer, "data_dir": .string, "database_url": .string, "external_url": .string, "runners": .integer,
        "registry": .string, "log_level": .string, "root_token": .string, "root_password": .string,
        "shutdown_timeout": .integer,
    ]

    /// Checks the file's shape before anything reads it: valid JSON, one `latchkey` object, known keys, right types.
    static func validate(fileAt path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("settings file \(path): cannot be read")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ValidationError("settings file \(path): not valid JSON (\(Self.reason(error)))")
        }
        guard let top = object as? [String: Any] else { throw ValidationError("settings file \(path): must be a JSON object {\"latchkey\": {…}}") }
        if let unknown = top.keys.filter({ $0 != "latchkey" }).sorted().first {
            throw ValidationError("settings file \(path): unknown top-level key \"\(unknown)\"; settings go inside {\"latchkey\": {…}}")
        }
        guard let settings = top["latchkey"] else { return }
        guard let values = settings as? [String: Any] else { throw ValidationError("settings file \(path): \"latchkey\" must be an object") }
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let kind = keys[key] else {
                throw ValidationError(
                    "settings file \(path): unknown key \"latchkey.\(key)\" (known keys: \(keys.keys.sorted().joined(separator: ", ")))")
            }
            switch kind {
            case .string:
                guard value is String else { throw ValidationError("settings file \(path): \"latchkey.\(key)\" must be a string, not \(describe(value))") }
            case .integer:
                // JSON's true and false come back as NSNumber too; only a whole number is an integer here.
                guard let number = value as? NSNumber, !(String(describing: type(of: value)).contains("Boolean")), value is Int else { throw ValidationError("settings file \(path): \"latchkey.\(key)\" must be an integer, not \(describe(value))") }
            }
        }
    }

    /// Checks that integer environment variables hold integers (a typo must not fall back to a default).
    static func validateEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        for (key, kind) in keys where kind == .integer {
            let name = "LATCHKEY_" + key.uppercased()
            if let text = environment[name], Int(text.trimmingCharacters(in: .whitespaces)) == nil {
                throw ValidationError("\(name)=\(text) is not an integer")
            }
        }
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
}
