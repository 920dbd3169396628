import ArgumentParser
import Foundation
import LatchkeyCore
import LatchkeyServer

/// The `latchkey` command: a GitLab-compatible CI/CD server core built around the job token.
@main
struct Latchkey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latchkey",
        abstract: "A self-hosted, GitLab API v4 compatible CI/CD server core built around the CI/CD job token.",
        discussion: """
            Exit codes: 0 success; 1 a runtime failure (the reason is printed in one line); 64 a usage error (a bad flag, \
            setting or value: the subcommand's usage follows); 128+N stopped by signal N while draining.
            """,
        version: "latchkey \(LatchkeyVersion.number) (GitLab API \(LatchkeyVersion.gitLabAPI))",
        subcommands: [ServeCommand.self, MigrateCommand.self, RunnerCommand.self, AdminCommand.self, ConfigCommand.self],
        defaultSubcommand: ServeCommand.self
    )

    /// Runs the chosen subcommand; its errors are reported with its own usage, not the top-level one.
    static func main() async {
        BrokenPipes.ignore()
        let command: any ParsableCommand
        do {
            command = try await asyncParseAsRoot(nil)
        } catch {
            exit(withError: error)
        }
        do {
            var command = command
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ValidationError {
            let type = Swift.type(of: command)
            let path = CommandPath.of(type, in: Latchkey.self) ?? "latchkey"
            FileHandle.standardError.write(
                Data("Error: \(error.message)\nUsage: \(usageString(for: type).trimmingPrefix("Usage: "))\n  See '\(path) --help' for more information.\n".utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // Help, versions and the parser's own errors, rendered as the parser does.
            exit(withError: error)
        } catch {
            FileHandle.standardError.write(Data("Error: \(CommandError.message(error))\n".utf8))
            Foundation.exit(ExitCode.failure.rawValue)
        }
    }
}

/// The words that name a subcommand on the command line (`latchkey admin scope`).
enum CommandPath {
    static func of(_ type: any ParsableCommand.Type, in root: any ParsableCommand.Type) -> String? {
        let name = root.configuration.commandName ?? "latchkey"
        if type == root { return name }
        for child in root.configuration.subcommands {
            if let rest = of(type, in: child) { return name + " " + rest }
        }
        return nil
    }
}

/// One line for an error a command could not recover from: what failed, never a raw `NSError` dump.
enum CommandError {
    static func message(_ error: any Error) -> String {
        let nsError = error as NSError
        let description: String
        if [NSCocoaErrorDomain, NSPOSIXErrorDomain, NSURLErrorDomain].contains(nsError.domain) {
            let path = (nsError.userInfo[NSFilePathErrorKey] as? String) ?? (nsError.userInfo[NSURLErrorKey] as? URL)?.path
            // Foundation on Linux describes file errors by number only; the POSIX error beneath says what went wrong.
            let posix = nsError.domain == NSPOSIXErrorDomain ? nsError : nsError.userInfo[NSUnderlyingErrorKey] as? NSError
            let reason =
                posix.flatMap { $0.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32($0.code))) : nil }
                ?? fileReason(code: nsError.code, path: path) ?? nsError.localizedDescription
            let verb = (256..<512).contains(nsError.code) ? "cannot read" : "cannot write"
            description = path.map { "\(verb) \($0): \(reason)" } ?? reason
        } else {
            description = String(describing: error)
        }
        return description.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// What a Cocoa file error code means, or what is in the way of `path` when the code says nothing.
    private static func fileReason(code: Int, path: String?) -> String? {
        switch code {
        case CocoaError.fileNoSuchFile.rawValue, CocoaError.fileReadNoSuchFile.rawValue: return "no such file or directory"
        case CocoaError.fileReadNoPermission.rawValue, CocoaError.fileWriteNoPermission.rawValue: return "permission denied"
        case CocoaError.fileWriteOutOfSpace.rawValue: return "no space left on device"
        default:
            guard let path else { return nil }
            var ancestor = URL(fileURLWithPath: path).deletingLastPathComponent()
            var isDirectory: ObjCBool = false
            while ancestor.path != "/", !FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory) {
                ancestor.deleteLastPathComponent()
            }
            if !isDirectory.boolValue { return "\(ancestor.path) is not a directory" }
            if !FileManager.default.isWritableFile(atPath: ancestor.path) { return "\(ancestor.path) is not writable" }
            return nil
        }
    }
}
