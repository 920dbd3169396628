import SQLKit

/// The columns of the tables joined into one-query lookups, each selected as `prefix` + column so rows decode per table.
enum JoinedColumns {
    static let projects = [
        "id", "namespace_id", "name", "path", "full_path", "visibility", "description", "default_branch", "creator_id", "created_at",
        "last_activity_at", "job_token_inbound_enabled", "job_token_outbound_enabled", "job_token_push_allowed", "repository_empty",
        "repository_head_sha", "job_token_permissions_ceiling",
    ]
    static let namespaces = ["id", "kind", "name", "path", "full_path", "full_name", "parent_id", "owner_id", "visibility", "description", "created_at"]
    static let users = ["id", "username", "name", "email", "password_hash", "is_admin", "is_blocked", "created_at", "is_bot"]
}

extension SQLSelectBuilder {
    /// Selects `columns` of the table aliased `table` as `prefix` + column.
    @discardableResult
    func columns(of table: String, _ columns: [String], prefix: String) -> Self {
        for column in columns { self.column(SQLAlias(SQLColumn(column, table: table), as: SQLIdentifier(prefix + column))) }
        return self
    }
}

extension SQLRow {
    /// The record whose columns were selected with `prefix` (see `columns(of:_:prefix:)`).
    func record<T: Decodable>(_ type: T.Type, prefix: String) throws -> T {
        try decode(model: T.self, prefix: prefix, keyDecodingStrategy: ColumnNames.strategy)
    }
}
