import LatchkeyCore
import LatchkeyStore

extension Authenticator {
    /// The runner presenting this `glrt-` token, if it exists (paused or not); the runner protocol's only credential check.
    func runner(token: String) async throws -> Runner? {
        guard TokenKind.of(token) == .runner, token.count < 256 else { return nil }
        // A paused runner still authenticates (it verifies, unregisters, asks): it is given no job (`claimNext`), as in GitLab.
        return try await environment.store.runners.find(tokenDigest: environment.digester.digest(token))
    }
}
