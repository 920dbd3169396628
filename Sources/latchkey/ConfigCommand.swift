import ArgumentParser

/// `latchkey config`: the settings file's schema, for operators writing one.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Show the settings file's format.", subcommands: [ExampleCommand.self])

    struct ExampleCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "example", abstract: "Print a commented YAML settings file with every key at its default.",
            discussion: "latchkey config example > latchkey.yaml && latchkey serve --config latchkey.yaml")

        func run() throws {
            print(SettingsFileSchema.example(), terminator: "")
        }
    }
}
