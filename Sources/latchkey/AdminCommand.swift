import ArgumentParser
import Foundation
import LatchkeyServer
import LatchkeyStore
import Logging

/// `latchkey admin`: operator tasks run against the data directory and database directly.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Administer an instance from its host.", subcommands: [RegistrationTokenCommand.self, ScopeCommand.self, BackupCommand.self, RestoreCommand.self, RotateJobTokenKeyCommand.self])

    struct RegistrationTokenCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "registration-token", abstract: "Print the runner registration token of the instance (its database).")

        @OptionGroup var options: InstanceOptions

        func run() async throws {
            let settings = try await options.settings()
            print(try await withAdministeredInstance(settings) { try await $0.registrationToken() })
        }
    }

    struct RotateJobTokenKeyCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-job-token-key",
            abstract: "Sign new job tokens with a new key; the old key keeps verifying (and stays in the JWKS) for the longest a job token lives.")

        @OptionGroup var options: InstanceOptions

        func run() async throws {
            let settings = try await options.settings()
            let (retired, current) = try JobTokenKeys.rotate(in: settings.dataDirectory)
            print("job token key \(current) signs from now on; \(retired) verifies until the tokens it signed have expired")
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
        @OptionGroup var options: InstanceOptions

        func run() async throws {
            guard let action = ScopeAdministration.Action(rawValue: action) else { throw ValidationError("unknown action \(action)") }
            if [.allow, .revoke].contains(action), target == nil { throw ValidationError("\(action.rawValue) needs a TARGET") }
            let settings = try await options.settings()
            let output = try await ScopeAdministration.run(action, project: project, target: target, settings: settings)
            print(output)
        }
    }

    struct BackupCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup", abstract: "Copy the instance (database snapshot, repositories, artifacts, packages, traces, keys) into DIR while it serves.",
            discussion: "With PostgreSQL the files are copied and the database must be dumped with pg_dump (pg_dump -Fc URL > DIR/latchkey.pgdump).")

        @Argument(help: "An empty or new directory for the backup.") var destination: String
        @OptionGroup var options: InstanceOptions

        func run() async throws {
            let settings = try await options.settings()
            let written = try await Backup.create(
                settings: settings, destination: URL(fileURLWithPath: destination).standardizedFileURL, logger: Logger(label: "latchkey.backup"))
            print("Backed up \(written.joined(separator: ", ")) to \(destination)")
            if settings.databaseURL != nil { print("PostgreSQL: also run pg_dump -Fc '<database url>' > \(destination)/latchkey.pgdump") }
        }
    }

    struct RestoreCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore", abstract: "Bring a backup back into an empty data directory (then start serve on it).")

        @Argument(help: "A directory made by `latchkey admin backup`.") var source: String
        @Option(help: "The empty or new data directory to restore into.") var dataDir: String

        func run() async throws {
            let restored = try Backup.restore(
                from: URL(fileURLWithPath: source).standardizedFileURL, into: URL(fileURLWithPath: dataDir, isDirectory: true).standardizedFileURL)
            print("Restored \(restored.joined(separator: ", ")) into \(dataDir)")
        }
    }
}
