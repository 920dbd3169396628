/// Why a `.gitlab-ci.yml` was refused: GitLab's `yaml_errors` lines.
public struct CIConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var messages: [String]
    /// The file is valid but `workflow:rules`, `rules` or `only`/`except` leave nothing to run: GitLab makes no pipeline.
    public var isFiltered = false

    /// An error with several messages, in the order GitLab reports them.
    public init(messages: [String]) {
        self.messages = messages
    }

    /// An error with one message.
    public init(_ message: String) {
        self.messages = [message]
    }

    /// GitLab's "Pipeline filtered out by workflow rules."
    public static let filteredByWorkflow = CIConfigError(filtered: "Pipeline filtered out by workflow rules.")
    /// GitLab's message when no job is left after `rules`, `only` and `except`.
    public static let filteredByRules = CIConfigError(
        filtered: "Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline.")

    private init(filtered message: String) {
        self.messages = [message]
        self.isFiltered = true
    }

    /// The messages joined as GitLab shows them in a pipeline's `yaml_errors`.
    public var description: String { messages.joined(separator: ", ") }
}
