import ArgumentParser
import LatchkeyServer
import LatchkeyStore
import Logging
import ServiceLifecycle

/// `latchkey migrate`: brings the database schema up to date and exits (for deployments with several instances).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending database migrations and exit.")

    @OptionGroup var options: InstanceOptions

    func run() async throws {
        let settings = try await options.settings()
        let logger = Logger(label: "latchkey.migrate")
        let (database, service) = try await openDatabase(settings, logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            if let service { group.addTask { try await service.run() } }
            let applied = try await Migrator().migrate(database)
            print(applied.isEmpty ? "The schema is up to date." : "Applied migrations: \(applied.map(String.init).joined(separator: ", "))")
            try await database.close()
            group.cancelAll()
        }
    }
}
