import Foundation

/// The script a shell step runs: strict mode, then each command echoed GitLab-style (`$ command` in green) and run.
enum ShellScript {
    static let green = "\u{1B}[32;1m"
    static let reset = "\u{1B}[0;m"

    static func render(_ commands: [String], workingDirectory: String) -> String {
        var lines = [
            "set -e",
            // dash exits on an unknown `set -o`, so probe in a subshell first; bash and recent dash have pipefail.
            "if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi",
            "cd -- \(quoted(workingDirectory))",
        ]
        for command in commands where !command.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            lines.append("printf '%s\\n' \(quoted(green + "$ " + displayed(command) + reset))")
            lines.append(command)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// GitLab shows the first line of a multi-line command only.
    static func displayed(_ command: String) -> String {
        let trimmed = command.trimmingCharacters(in: .newlines)
        guard let newline = trimmed.firstIndex(where: \.isNewline) else { return trimmed }
        return String(trimmed[..<newline]) + " # collapsed multi-line command"
    }

    /// `s` as one single-quoted shell word.
    static func quoted(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
