/// Why a `.gitlab-ci.yml` was refused: GitLab's `yaml_errors` lines.
public struct CIConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var messages: [String]

    /// An error with several messages, in the order GitLab reports them.
    public init(messages: [String]) {
        self.messages = messages
    }

    /// An error with one message.
    public init(_ message: String) {
        self.messages = [message]
    }

    /// The messages joined as GitLab shows them in a pipeline's `yaml_errors`.
    public var description: String { messages.joined(separator: ", ") }
}
