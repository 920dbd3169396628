import ArgumentParser
import LatchkeyCore

/// The `latchkey` command: a GitLab-compatible CI/CD server core built around the job token.
@main
struct Latchkey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latchkey",
        abstract: "A self-hosted, GitLab API v4 compatible CI/CD server core built around the CI/CD job token.",
        version: "latchkey \(LatchkeyVersion.number) (GitLab API \(LatchkeyVersion.gitLabAPI))",
        subcommands: [ServeCommand.self, MigrateCommand.self, RunnerCommand.self, AdminCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
