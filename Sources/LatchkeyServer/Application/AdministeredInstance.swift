import Foundation
import LatchkeyStore
import Logging

/// Runs `body` against the instance `settings` point at (its database, migrated, and its data directory), for `admin` commands.
public func withAdministeredInstance<T: Sendable>(
    _ settings: ServerSettings, _ body: @Sendable (ServerEnvironment) async throws -> T
) async throws -> T {
    let logger = Logger(label: "latchkey.admin")
    let (database, service) = try await openDatabase(settings, logger: logger)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        if let service { group.addTask { try await service.run(); return nil } }
        defer { group.cancelAll() }
        try await Migrator().migrate(database)
        let environment = try await makeEnvironment(settings: settings, database: database, logger: logger)
        let result = try await body(environment)
        try await database.close()
        return result
    }
}
