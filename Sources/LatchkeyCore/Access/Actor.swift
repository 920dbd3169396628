/// Who is asking: the identity a request's credentials resolved to.
public enum Actor: Sendable {
    case anonymous
    case user(UserActor)
    /// A job presenting its CI/CD job token.
    case job(JobActor)

    /// The user behind the actor, if any (for a job: the user it acts as).
    public var user: User? {
        switch self {
        case .anonymous: nil
        case .user(let actor): actor.user
        case .job(let actor): actor.user
        }
    }

    /// The user, only when signed in as themselves (not through a job token).
    public var signedInUser: User? {
        if case .user(let actor) = self { return actor.user }
        return nil
    }
}

/// A signed-in user and what the credential they used allows.
public struct UserActor: Sendable {
    public var user: User
    /// The token's scopes; nil when the user signed in with a password (no scope limit).
    public var scopes: Set<TokenScope>?
    /// The personal access token presented, for the routes that act on it (`/personal_access_tokens/self`); nil for a password.
    public var tokenID: Int64?

    public init(user: User, scopes: Set<TokenScope>?, tokenID: Int64? = nil) {
        self.user = user
        self.scopes = scopes
        self.tokenID = tokenID
    }
}
