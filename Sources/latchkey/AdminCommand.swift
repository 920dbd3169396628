import ArgumentParser
import Foundation
import LatchkeyServer
import LatchkeyStore
import Logging

/// `latchkey admin`: operator tasks run against the data directory and database directly.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Administer an instance from its host.", subcommands: [RegistrationTokenCommand.self, ScopeCommand.self])

    struct RegistrationTokenCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "registration-token", abstract: "Print the runner registration token.")

        @OptionGroup var options: SettingsOptions

        func run() async throws {
            let settings = try await options.settings()
            try FileManager.default.createDirectory(at: settings.dataDirectory, withIntermediateDirectories: true)
            print(try RegistrationTokenFile.value(in: settings.dataDirectory))
        }
    }

    struct ScopeCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "scope", abstract: "Show or change a project's CI/CD job token scope.",
            discussion: """
                show PROJECT            the scope switches and the allowlists
                enable PROJECT          turn "Limit access to this project" on
                disable PROJECT         turn it off
                allow PROJECT TARGET    add a project or group (by full path) to PROJECT's allowlist
                revoke PROJECT TARGET   remove it
                """)

        @Argument(help: "show, enable, disable, allow or revoke") var action: String
        @Argument(help: "The project's full path.") var project: String
        @Argument(help: "A project or group full path (allow, revoke).") var target: String?
        @OptionGroup var options: SettingsOptions

        func run() async throws {
            guard let action = ScopeAdministration.Action(rawValue: action) else { throw ValidationError("unknown action \(action)") }
            if [.allow, .revoke].contains(action), target == nil { throw ValidationError("\(action.rawValue) needs a TARGET") }
            let settings = try await options.settings()
            let output = try await ScopeAdministration.run(action, project: project, target: target, settings: settings)
            print(output)
        }
    }
}
