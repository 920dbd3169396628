import Foundation
import Hummingbird
import LatchkeyCore

/// One browser request as the pages see it: the session from its cookie, the signed-in user, and the posted form.
struct WebRequest {
    let request: Request
    let context: AppRequestContext
    var session: WebSession
    /// Whether the cookie must be sent again (new session, sign-in, a notice set or shown).
    var sessionChanged: Bool
    let user: User?
    let form: WebForm

    var actor: Actor { user.map { .user(UserActor(user: $0, scopes: nil)) } ?? .anonymous }

    /// The path and query asked for, to come back to after signing in.
    var returnPath: String {
        request.uri.query.map { "\(request.uri.path)?\($0)" } ?? request.uri.path
    }

    /// The client's address when the context knows it, for rate limiting.
    var clientAddress: String {
        let remote = (context as Any as? any RemoteAddressRequestContext)?.remoteAddress
        return remote?.ipAddress ?? "unknown"
    }
}
