import Foundation
import LatchkeyCore
import SQLKit

extension UserRepository {
    /// The users with these ids, by id, in one query (unknown ids are absent).
    public func find(ids: [Int64]) async throws -> [Int64: User] {
        let unique = Array(Set(ids))
        guard !unique.isEmpty else { return [:] }
        return try await database.read { db in
            let users = try await db.select().column("*").from("users").where("id", .in, unique).records(UserRecord.self).map(\.user)
            return Dictionary(users.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }
}
