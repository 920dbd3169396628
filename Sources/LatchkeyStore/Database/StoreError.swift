import PostgresNIO

/// Failures the store reports in domain terms.
public enum StoreError: Error, Sendable, Equatable {
    /// A row with the same unique key exists.
    case duplicate(String)
    /// The row to change does not exist.
    case notFound
    case invalidConfiguration(String)
    /// A stored value could not be read back.
    case corrupt(String)
    /// The database did not answer in time or could not be reached; the text names what failed, never a password.
    case unavailable(String)
}

extension Error {
    /// Whether the database refused the statement because of a unique constraint.
    var isUniqueViolation: Bool {
        if let psql = self as? PSQLError { return psql.serverInfo?[.sqlState] == "23505" }
        return String(describing: self).contains("UNIQUE constraint failed")
    }
}
