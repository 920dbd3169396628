import LatchkeyCore
import LatchkeyStore

extension Authenticator {
    /// The runner presenting this `glrt-` token, if it exists and is active; the runner protocol's only credential check.
    func runner(token: String) async throws -> Runner? {
        guard TokenKind.of(token) == .runner, token.count < 256 else { return nil }
        guard let runner = try await environment.store.runners.find(tokenDigest: environment.digester.digest(token)), runner.active else { return nil }
        return runner
    }
}
