import SQLKit

/// Latchkey's schema, as numbered migrations. Append new ones; never edit one that has shipped.
public enum Schema {
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "identities, projects, pipelines and jobs", apply: createFoundation),
        Migration(version: 2, name: "runners, traces, variables and artifacts", apply: createRunnerProtocol),
        Migration(version: 3, name: "job token scope, authentication log and audit events", apply: createJobTokenScope),
        Migration(version: 4, name: "pipeline triggers, generic packages and releases", apply: createJobTokenResources),
        Migration(version: 5, name: "ids are never reused on SQLite", rebuildsTables: true, apply: neverReuseIDs),
        Migration(version: 6, name: "hidden variables", apply: addHiddenVariables),
        Migration(version: 7, name: "server-side web sessions", apply: createWebSessions),
        Migration(version: 8, name: "sign-in attempts shared by every instance", apply: createAuthAttempts),
        Migration(version: 9, name: "personal access token descriptions", apply: addTokenDescriptions),
        Migration(version: 10, name: "job tags and needs for claiming and progression in SQL", apply: JobRepository.addDispatchColumns),
        Migration(version: 11, name: "repository metadata recorded when a push lands", apply: ProjectRepository.addRepositoryMetadata),
        Migration(version: 12, name: "protected branches", apply: ProtectedBranchRepository.createTable),
        Migration(version: 13, name: "dotenv report variables", apply: JobRepository.createDotenvVariables),
        Migration(version: 14, name: "job token permissions ceiling per project", apply: ProjectRepository.addJobTokenPermissionsCeiling),
        Migration(version: 16, name: "release asset links", apply: ReleaseLinkRepository.createTable),
        Migration(version: 17, name: "signed (JWT) job tokens", apply: JobRepository.addSignedTokenColumn),
        Migration(version: 18, name: "delayed jobs' start times", apply: JobRepository.addScheduledAt),
        Migration(version: 19, name: "pipeline names (workflow:name, metadata API)", apply: PipelineRepository.addName),
        Migration(version: 20, name: "group and instance CI/CD variables", apply: VariableRepository.createInheritedTables),
        Migration(version: 21, name: "protected tags", apply: ProtectedTagRepository.createTable),
        Migration(version: 22, name: "environments and deployments", apply: EnvironmentRepository.createTables),
        Migration(version: 23, name: "secure files", apply: SecureFileRepository.createTable),
        Migration(version: 24, name: "bridge (trigger) jobs", apply: JobRepository.addBridgeColumn),
        Migration(version: 25, name: "bot users of project access tokens", apply: UserRepository.addBotColumn),
        Migration(version: 26, name: "pending bridges by project", apply: JobRepository.addPendingBridgeIndex),
    ]

    /// Every table whose ids reach the outside (API ids, file names): a reused id would hand a newcomer what was deleted.
    static let tablesWithIDs = [
        "users", "personal_access_tokens", "namespaces", "projects", "group_members", "project_members", "pipeline_schedules", "pipelines",
        "jobs", "runners", "ci_variables", "job_artifacts", "job_token_project_links", "job_token_group_links", "job_token_auth_logs",
        "audit_events", "pipeline_triggers", "packages", "package_files", "releases",
    ]

    static let boolean = SQLDataType.custom(SQLRaw("BOOLEAN"))

    private static func createFoundation(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        try await db.create(table: "settings")
            .column("key", type: .text, .primaryKey(autoIncrement: false))
            .column("value", type: .text, .notNull)
            .run()

        try await db.create(table: "users")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("username", type: .text, .notNull, .unique)
            .column("name", type: .text, .notNull)
            .column("email", type: .text, .notNull, .unique)
            .column("password_hash", type: .text)
            .column("is_admin", type: boolean, .notNull)
            .column("is_blocked", type: boolean, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .run()

        try await db.create(table: "personal_access_tokens")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("user_id", type: .bigint, .notNull, .references("users", "id", onDelete: .cascade))
            .column("name", type: .text, .notNull)
            .column("digest", type: .text, .notNull, .unique)
            .column("scopes", type: .text, .notNull)
            .column("expires_at", type: .text)
            .column("revoked", type: boolean, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("last_used_at", type: .bigint)
            .run()

        // Groups and users' personal namespaces share one id sequence, as in GitLab.
        try await db.create(table: "namespaces")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("kind", type: .text, .notNull)
            .column("name", type: .text, .notNull)
            .column("path", type: .text, .notNull)
            .column("full_path", type: .text, .notNull, .unique)
            .column("full_name", type: .text, .notNull)
            .column("parent_id", type: .bigint, .references("namespaces", "id", onDelete: .cascade))
            .column("owner_id", type: .bigint, .references("users", "id", onDelete: .cascade))
            .column("visibility", type: .text, .notNull)
            .column("description", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .run()

        try await db.create(table: "projects")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("namespace_id", type: .bigint, .notNull, .references("namespaces", "id", onDelete: .cascade))
            .column("name", type: .text, .notNull)
            .column("path", type: .text, .notNull)
            .column("full_path", type: .text, .notNull, .unique)
            .column("visibility", type: .text, .notNull)
            .column("description", type: .text, .notNull)
            .column("default_branch", type: .text, .notNull)
            .column("creator_id", type: .bigint, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("last_activity_at", type: .bigint, .notNull)
            .column("job_token_inbound_enabled", type: boolean, .notNull)
            .column("job_token_outbound_enabled", type: boolean, .notNull)
            .column("job_token_push_allowed", type: boolean, .notNull)
            .run()

        // Memberships of groups and of projects, each cascading with what it is a membership of.
        for (table, source, target) in [("group_members", "namespace_id", "namespaces"), ("project_members", "project_id", "projects")] {
            try await db.create(table: table)
                .column("id", type: .bigint, .primaryKey(autoIncrement: true))
                .column(source, type: .bigint, .notNull, .references(target, "id", onDelete: .cascade))
                .column("user_id", type: .bigint, .notNull, .references("users", "id", onDelete: .cascade))
                .column("access_level", type: .bigint, .notNull)
                .column("expires_at", type: .text)
                .column("created_at", type: .bigint, .notNull)
                .unique(source, "user_id")
                .run()
            try await db.create(index: "\(table)_by_user").on(table).column("user_id").run()
        }

        try await db.create(table: "pipeline_schedules")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("description", type: .text, .notNull)
            .column("ref", type: .text, .notNull)
            .column("cron", type: .text, .notNull)
            .column("cron_timezone", type: .text, .notNull)
            .column("active", type: boolean, .notNull)
            .column("owner_id", type: .bigint, .notNull, .references("users", "id", onDelete: .cascade))
            .column("next_run_at", type: .bigint)
            .column("variables", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("updated_at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "schedules_due").on("pipeline_schedules").column("active").column("next_run_at").run()

        try await db.create(table: "pipelines")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("iid", type: .bigint, .notNull)
            .column("project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("ref", type: .text, .notNull)
            .column("sha", type: .text, .notNull)
            .column("before_sha", type: .text, .notNull)
            .column("is_tag", type: boolean, .notNull)
            .column("source", type: .text, .notNull)
            .column("status", type: .text, .notNull)
            .column("user_id", type: .bigint, .references("users", "id", onDelete: .setNull))
            .column("schedule_id", type: .bigint, .references("pipeline_schedules", "id", onDelete: .setNull))
            .column("upstream_job_id", type: .bigint)
            .column("yaml_errors", type: .text)
            .column("variables", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("updated_at", type: .bigint, .notNull)
            .column("started_at", type: .bigint)
            .column("finished_at", type: .bigint)
            .run()
        try await db.create(index: "pipelines_by_project").on("pipelines").column("project_id").column("id").run()

        try await db.create(table: "jobs")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("pipeline_id", type: .bigint, .notNull, .references("pipelines", "id", onDelete: .cascade))
            .column("project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("name", type: .text, .notNull)
            .column("stage", type: .text, .notNull)
            .column("stage_index", type: .bigint, .notNull)
            .column("status", type: .text, .notNull)
            .column("definition", type: .text, .notNull)
            .column("user_id", type: .bigint, .references("users", "id", onDelete: .setNull))
            .column("retried", type: boolean, .notNull)
            .column("token_digest", type: .text, .unique)
            .column("runner_id", type: .bigint)
            .column("failure_reason", type: .text)
            .column("created_at", type: .bigint, .notNull)
            .column("queued_at", type: .bigint)
            .column("started_at", type: .bigint)
            .column("finished_at", type: .bigint)
            .column("updated_at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "jobs_by_pipeline").on("jobs").column("pipeline_id").run()
        try await db.create(index: "jobs_by_status").on("jobs").column("status").column("id").run()
        try await db.create(index: "jobs_by_project").on("jobs").column("project_id").column("id").run()
    }

    private static func createRunnerProtocol(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        try await db.create(table: "runners")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("description", type: .text, .notNull)
            .column("token_digest", type: .text, .notNull, .unique)
            .column("token_nonce", type: .text, .notNull)
            .column("tags", type: .text, .notNull)
            .column("run_untagged", type: boolean, .notNull)
            .column("locked", type: boolean, .notNull)
            .column("active", type: boolean, .notNull)
            .column("embedded", type: boolean, .notNull)
            .column("version", type: .text, .notNull)
            .column("contacted_at", type: .bigint)
            .column("created_at", type: .bigint, .notNull)
            .run()

        // The nonce a running job's token is derived from (see TokenDigester.derive); cleared when the job ends.
        try await db.alter(table: "jobs").column("token_nonce", type: .text).run()

        // Per-job trace bookkeeping: bytes received from the runner (its offsets) and their running CRC-32.
        try await db.create(table: "job_traces")
            .column("job_id", type: .bigint, .primaryKey(autoIncrement: false), .references("jobs", "id", onDelete: .cascade))
            .column("received", type: .bigint, .notNull)
            .column("crc", type: .bigint, .notNull)
            .column("held", type: .blob, .notNull)
            .column("exit_code", type: .bigint)
            .run()

        try await db.create(table: "ci_variables")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("key", type: .text, .notNull)
            .column("value", type: .text, .notNull)
            .column("variable_type", type: .text, .notNull)
            .column("masked", type: boolean, .notNull)
            .column("protected", type: boolean, .notNull)
            .column("raw", type: boolean, .notNull)
            .column("environment_scope", type: .text, .notNull)
            .column("description", type: .text)
            .column("created_at", type: .bigint, .notNull)
            .unique("project_id", "key", "environment_scope")
            .run()

        try await db.create(table: "job_artifacts")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("job_id", type: .bigint, .notNull, .references("jobs", "id", onDelete: .cascade))
            .column("project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("file_type", type: .text, .notNull)
            .column("file_format", type: .text, .notNull)
            .column("filename", type: .text, .notNull)
            .column("size", type: .bigint, .notNull)
            .column("storage_path", type: .text, .notNull)
            .column("expire_at", type: .bigint)
            .column("created_at", type: .bigint, .notNull)
            .unique("job_id", "file_type")
            .run()
        try await db.create(index: "job_artifacts_by_expiry").on("job_artifacts").column("expire_at").run()
    }

    private static func createJobTokenScope(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // GitLab's naming: the list belongs to `source_project_id`; `target_project_id` is the project it names.
        try await db.create(table: "job_token_project_links")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("source_project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("target_project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("direction", type: .text, .notNull)
            .column("default_permissions", type: boolean, .notNull)
            .column("job_token_policies", type: .text, .notNull)
            .column("autopopulated", type: boolean, .notNull)
            .column("added_by_id", type: .bigint, .references("users", "id", onDelete: .setNull))
            .column("created_at", type: .bigint, .notNull)
            .unique("source_project_id", "target_project_id", "direction")
            .run()
        try await db.create(table: "job_token_group_links")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("source_project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("target_group_id", type: .bigint, .notNull, .references("namespaces", "id", onDelete: .cascade))
            .column("default_permissions", type: boolean, .notNull)
            .column("job_token_policies", type: .text, .notNull)
            .column("autopopulated", type: boolean, .notNull)
            .column("added_by_id", type: .bigint, .references("users", "id", onDelete: .setNull))
            .column("created_at", type: .bigint, .notNull)
            .unique("source_project_id", "target_group_id")
            .run()
        try await db.create(table: "job_token_auth_logs")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("accessed_project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("origin_project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("last_authorized_at", type: .bigint, .notNull)
            .unique("accessed_project_id", "origin_project_id")
            .run()
        try await db.create(table: "audit_events")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("entity_type", type: .text, .notNull)
            .column("entity_id", type: .bigint, .notNull)
            .column("author_id", type: .bigint)
            .column("event_name", type: .text, .notNull)
            .column("details", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "audit_events_by_entity").on("audit_events").column("entity_type").column("entity_id").run()
    }

    private static func createJobTokenResources(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // Trigger tokens are kept only as keyed digests; `token_hint` is the few leading characters GitLab shows to others.
        try await db.create(table: "pipeline_triggers")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("owner_id", type: .bigint, .references("users", "id", onDelete: .setNull))
            .column("description", type: .text, .notNull)
            .column("token_digest", type: .text, .notNull, .unique)
            .column("token_hint", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("updated_at", type: .bigint, .notNull)
            .column("last_used_at", type: .bigint)
            .run()
        try await db.create(index: "pipeline_triggers_by_project").on("pipeline_triggers").column("project_id").run()

        try await db.create(table: "packages")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("name", type: .text, .notNull)
            .column("version", type: .text, .notNull)
            .column("package_type", type: .text, .notNull)
            .column("status", type: .text, .notNull)
            .column("creator_id", type: .bigint, .references("users", "id", onDelete: .setNull))
            .column("created_at", type: .bigint, .notNull)
            .column("updated_at", type: .bigint, .notNull)
            .unique("project_id", "package_type", "name", "version")
            .run()
        // GitLab keeps every upload of a file name; downloads serve the newest.
        try await db.create(table: "package_files")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("package_id", type: .bigint, .notNull, .references("packages", "id", onDelete: .cascade))
            .column("file_name", type: .text, .notNull)
            .column("size", type: .bigint, .notNull)
            .column("file_sha256", type: .text, .notNull)
            .column("storage_path", type: .text, .notNull)
            .column("job_id", type: .bigint)
            .column("created_at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "package_files_by_package").on("package_files").column("package_id").column("file_name").run()

        try await db.create(table: "releases")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("tag_name", type: .text, .notNull)
            .column("name", type: .text, .notNull)
            .column("description", type: .text, .notNull)
            .column("sha", type: .text, .notNull)
            .column("author_id", type: .bigint, .references("users", "id", onDelete: .setNull))
            .column("released_at", type: .bigint, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .unique("project_id", "tag_name")
            .run()
    }

    /// SQLite without `AUTOINCREMENT` hands out the highest deleted rowid again: a new project would get a deleted project's id (and its
    /// job ids, the trace and artifact files named by them). Each table is rebuilt from its own definition with `AUTOINCREMENT`.
    /// PostgreSQL's identity sequences never go back, so there is nothing to do there.
    private static func neverReuseIDs(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        guard kind == .sqlite else { return }
        for table in tablesWithIDs {
            guard let row = try await db.raw("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = \(bind: table)").first() else { continue }
            let definition = try row.decode(column: "sql", as: String.self)
            let primaryKey = "\"id\" INTEGER PRIMARY KEY"
            guard definition.contains(primaryKey), !definition.contains("AUTOINCREMENT") else { continue }
            let rebuilt = "\(table)__rebuilt"
            guard let head = definition.range(of: "\"\(table)\"") else { throw StoreError.corrupt("unexpected definition of \(table)") }
            var newDefinition = definition.replacingCharacters(in: head, with: "\"\(rebuilt)\"")
            newDefinition = newDefinition.replacingOccurrences(of: primaryKey, with: primaryKey + " AUTOINCREMENT")
            let indexes = try await db.raw("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = \(bind: table) AND sql IS NOT NULL")
                .all().map { try $0.decode(column: "sql", as: String.self) }
            // The definitions are the schema's own text, read back from sqlite_master, not outside input.
            try await db.raw("\(unsafeRaw: newDefinition)").run()
            try await db.raw("INSERT INTO \(ident: rebuilt) SELECT * FROM \(ident: table)").run()
            try await db.raw("DROP TABLE \(ident: table)").run()
            try await db.raw("ALTER TABLE \(ident: rebuilt) RENAME TO \(ident: table)").run()
            for index in indexes { try await db.raw("\(unsafeRaw: index)").run() }
        }
    }

    private static func addHiddenVariables(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // GitLab 17.4's "Masked and hidden": set only at creation; the value is never shown again.
        try await db.alter(table: "ci_variables").column("hidden", type: boolean, .notNull, .default(false)).run()
    }

    private static func createWebSessions(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // Only the keyed digest of a session's id is kept, as for every other token.
        try await db.create(table: "web_sessions")
            .column("digest", type: .text, .primaryKey(autoIncrement: false))
            .column("user_id", type: .bigint, .notNull, .references("users", "id", onDelete: .cascade))
            .column("created_at", type: .bigint, .notNull)
            .column("expires_at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "web_sessions_by_user").on("web_sessions").column("user_id").run()
    }

    private static func createAuthAttempts(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // Ids here never leave the server, so SQLite's reuse of a deleted rowid does no harm.
        try await db.create(table: "auth_attempts")
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("bucket", type: .text, .notNull)
            .column("at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "auth_attempts_by_bucket").on("auth_attempts").column("bucket").column("at").run()
    }

    private static func addTokenDescriptions(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // GitLab 16.x's optional `description` on personal access tokens, kept through rotation.
        try await db.alter(table: "personal_access_tokens").column("description", type: .text).run()
    }
}
