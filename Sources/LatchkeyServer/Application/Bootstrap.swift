import Foundation
import LatchkeyCore
import LatchkeyStore
import Logging

/// First-start work: the data directory, the server secret and the administrator.
enum Bootstrap {
    /// Reads the server secret, creating it (mode 0600) on first start.
    static func serverSecret(in directory: URL) throws -> [UInt8] {
        let file = directory.appendingPathComponent("server-secret")
        if let data = FileManager.default.contents(atPath: file.path), data.count >= 32 { return Array(data) }
        var bytes = [UInt8](repeating: 0, count: 64)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        let temporary = directory.appendingPathComponent(".server-secret-\(UUID().uuidString)")
        try FileManager.default.createPrivateFile(at: temporary, contents: Data(bytes))
        try FileManager.default.moveItem(at: temporary, to: file)
        return bytes
    }

    /// Creates `root` with its token and password when the database has no users; seals variable values an older version
    /// kept in the clear (once, at every start after migrations), so the database holds none.
    static func administrator(environment: ServerEnvironment) async throws {
        try await environment.store.variables.sealPlainValues()
        let settings = environment.settings
        guard try await environment.store.users.count() == 0 else {
            // Root's credentials are read on the first start only; an operator who sets them later must learn they did nothing.
            let ignored = [settings.rootToken.map { _ in "root_token (LATCHKEY_ROOT_TOKEN)" }, settings.rootPassword.map { _ in "root_password (LATCHKEY_ROOT_PASSWORD)" }]
                .compactMap { $0 }
            if !ignored.isEmpty {
                environment.logger.warning(
                    "\(ignored.joined(separator: " and ")) is read on the first start only; this instance already has its administrator, so it is ignored (change root's password or tokens through the API or web instead)")
            }
            return
        }
        let password = settings.rootPassword ?? SecretToken.mint(.personalAccess).value.dropFirst(6).prefix(24).description
        let root = try await environment.store.users.create(
            NewUser(username: "root", name: "Administrator", email: "admin@example.com", passwordHash: try await environment.passwords.hash(password), isAdmin: true))
        let token: SecretToken
        if let given = settings.rootToken {
            guard TokenKind.of(given) == .personalAccess, given.count >= 26 else {
                throw StoreError.invalidConfiguration("LATCHKEY_ROOT_TOKEN must be a glpat- token of at least 20 characters after the prefix")
            }
            token = SecretToken(given)
        } else {
            token = SecretToken.mint(.personalAccess)
        }
        _ = try await environment.store.personalAccessTokens.create(
            userID: root.id, name: "root bootstrap token", digest: environment.digester.digest(token), scopes: [.api, .readRepository, .writeRepository, .adminMode, .sudo],
            expiresAt: nil)
        // Printed once, to the operator's terminal, only when we generated them: they are not kept anywhere else.
        if settings.rootToken == nil || settings.rootPassword == nil {
            var lines = ["", "Latchkey created the administrator 'root'. Keep these; they are not shown again:"]
            if settings.rootPassword == nil { lines.append("  root password: \(password)") }
            if settings.rootToken == nil { lines.append("  root personal access token: \(token.value)") }
            lines.append("")
            FileHandle.standardError.write(Data(lines.joined(separator: "\n").utf8))
        }
    }
}

/// Creates the administrator on an empty database (what `serve` does at start).
public func bootstrapAdministrator(environment: ServerEnvironment) async throws {
    try await Bootstrap.administrator(environment: environment)
}
