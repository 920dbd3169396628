import LatchkeyCore
import LatchkeyStore

extension Authenticator {
    /// The user a signed-in web session acts as: only while its server-side record lives (signing out deletes it) and its user
    /// exists and is not blocked; nil ends the session.
    func sessionUser(userID: Int64, sessionID: String?) async throws -> User? {
        guard let sessionID, try await environment.store.webSessions.isActive(digest: environment.digester.digest(sessionID), userID: userID) else {
            return nil
        }
        guard let user = try await environment.store.users.find(id: userID), !user.isBlocked else { return nil }
        return user
    }
}
