import Foundation

/// One change of `POST /projects/:id/repository/commits` (and of the files API, which makes one-action commits).
public struct CommitAction: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case create, delete, move, update, chmod
    }

    public var kind: Kind
    /// The path the action writes (or deletes), already checked by `RepositoryPath`.
    public var filePath: String
    /// For `move`: where the file was.
    public var previousPath: String?
    /// The new bytes (`create`, `update`; optional for `move`, which keeps the old ones without it).
    public var content: [UInt8]?
    /// For `chmod` (and optionally `create`/`update`/`move`): whether the file is executable.
    public var executable: Bool?
    /// For `update`, `move`, `delete`: the commit the caller last saw the file at; refused when it changed since.
    public var lastCommitID: String?

    public init(kind: Kind, filePath: String, previousPath: String? = nil, content: [UInt8]? = nil, executable: Bool? = nil, lastCommitID: String? = nil) {
        self.kind = kind
        self.filePath = filePath
        self.previousPath = previousPath
        self.content = content
        self.executable = executable
        self.lastCommitID = lastCommitID
    }

    /// Why the actions of a request are refused, in GitLab's words.
    public struct Invalid: Error, Equatable, Sendable {
        public var message: String
        public init(_ message: String) { self.message = message }
    }

    /// Most actions one commit may carry, and most bytes of content in all.
    public static let maximumActions = 1000
    public static let maximumContentBytes = 16 << 20

    /// A path that may be written: a valid repository path, not the root, with no `.git` segment (git would refuse it, and it
    /// must never reach the repository's own files).
    public static func writablePath(_ raw: String, name: String = "file_path") throws(Invalid) -> String {
        let path: String
        do { path = try RepositoryPath.parse(raw) } catch { throw Invalid("\(name) is invalid") }
        guard !path.isEmpty, !path.split(separator: "/").contains(where: { $0.lowercased() == ".git" }) else { throw Invalid("\(name) is invalid") }
        return path
    }

    /// Decodes `content` as `encoding` says (`text`, the default, or `base64`).
    public static func content(_ text: String, encoding: String?) throws(Invalid) -> [UInt8] {
        switch encoding ?? "text" {
        case "text": return Array(text.utf8)
        case "base64":
            guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else { throw Invalid("content is not valid base64") }
            return [UInt8](data)
        default: throw Invalid("encoding does not have a valid value")
        }
    }

    /// The `actions` array of a commits request, as JSON.
    public static func parse(_ value: JSONValue?) throws(Invalid) -> [CommitAction] {
        guard case .array(let items)? = value else { throw Invalid("actions is missing") }
        guard !items.isEmpty else { throw Invalid("actions is empty") }
        guard items.count <= maximumActions else { throw Invalid("actions has more than \(maximumActions) entries") }
        var actions: [CommitAction] = []
        var contentBytes = 0
        for (index, item) in items.enumerated() {
            guard case .object(let fields) = item else { throw Invalid("actions[\(index)] is invalid") }
            func string(_ name: String) throws(Invalid) -> String? {
                switch fields[name] {
                case nil, .null?: return nil
                case .string(let text)?: return text
                default: throw Invalid("actions[\(index)][\(name)] is invalid")
                }
            }
            func bool(_ name: String) throws(Invalid) -> Bool? {
                switch fields[name] {
                case nil, .null?: return nil
                case .bool(let flag)?: return flag
                case .string("true")?: return true
                case .string("false")?: return false
                default: throw Invalid("actions[\(index)][\(name)] is invalid")
                }
            }
            guard let kindName = try string("action") else { throw Invalid("actions[\(index)][action] is missing") }
            guard let kind = Kind(rawValue: kindName) else { throw Invalid("actions[\(index)][action] does not have a valid value") }
            guard let rawPath = try string("file_path") else { throw Invalid("actions[\(index)][file_path] is missing") }
            var action = CommitAction(kind: kind, filePath: try writablePath(rawPath, name: "actions[\(index)][file_path]"))
            if let previous = try string("previous_path") {
                action.previousPath = try writablePath(previous, name: "actions[\(index)][previous_path]")
            }
            if let text = try string("content") { action.content = try content(text, encoding: try string("encoding")) }
            action.executable = try bool("execute_filemode")
            action.lastCommitID = try string("last_commit_id")
            switch kind {
            case .create, .update:
                if action.content == nil { action.content = [] }
            case .move:
                guard action.previousPath != nil else { throw Invalid("actions[\(index)][previous_path] is missing") }
            case .chmod:
                guard action.executable != nil else { throw Invalid("actions[\(index)][execute_filemode] is missing") }
            case .delete:
                break
            }
            contentBytes += action.content?.count ?? 0
            guard contentBytes <= maximumContentBytes else { throw Invalid("the content of the actions is over \(maximumContentBytes >> 20) MiB") }
            actions.append(action)
        }
        return actions
    }
}
