/// What an actor may want to do with a personal access token.
public enum PersonalAccessTokenAbility: String, Sendable, CaseIterable {
    /// See the token (`GET /personal_access_tokens/:id`).
    case read = "read_user_personal_access_tokens"
    /// Revoke or rotate it.
    case manage = "manage_user_personal_access_token"
}

extension AccessPolicy {
    /// Whether `actor` may use `ability` on a token of the user `owner` (nil when no such token exists). Users manage their own tokens,
    /// administrators everyone's. Only an administrator learns that a token does not exist: anyone else is refused a missing token
    /// exactly like another user's (GitLab: "Only admins should be informed if the token doesn't exist").
    public static func decide(_ actor: Actor, _ ability: PersonalAccessTokenAbility, tokenOwner owner: Int64?) -> Decision {
        let user: UserActor
        switch actor {
        case .anonymous: return .denied(.unauthenticated)
        // A job token is no credential on user routes.
        case .job: return .denied(.unauthenticated)
        case .user(let signedIn): user = signedIn
        }
        guard !user.user.isBlocked else { return .denied(.blocked) }
        if let scopes = user.scopes, !scopes.allowsAPI(write: ability == .manage) {
            return .denied(.insufficientScope(required: ability == .manage ? .api : .readAPI))
        }
        if user.user.isAdmin { return owner == nil ? .denied(.notFound) : .allowed }
        guard let owner, owner == user.user.id else { return .denied(.insufficientRole(required: .owner, actual: nil)) }
        return .allowed
    }

    /// Whether `actor` may list the tokens of the user `owner` (nil: every token it may see, which for a non-administrator means its own).
    public static func mayListPersonalAccessTokens(_ actor: Actor, of owner: Int64?) -> Decision {
        guard case .user(let user) = actor else { return .denied(.unauthenticated) }
        guard !user.user.isBlocked else { return .denied(.blocked) }
        if let scopes = user.scopes, !scopes.allowsAPI(write: false) { return .denied(.insufficientScope(required: .readAPI)) }
        if user.user.isAdmin || owner == nil || owner == user.user.id { return .allowed }
        return .denied(.insufficientRole(required: .owner, actual: nil))
    }

    /// Whether the credential may act on itself (`/personal_access_tokens/self`): a token of any scope may read and revoke itself, as
    /// GitLab's `allow_access_with_scope(all_available_scopes)`; rotating itself needs `api` or `self_rotate`. A password sign-in has no
    /// token to act on.
    public static func mayUseOwnToken(_ actor: UserActor, rotate: Bool) -> Decision {
        guard !actor.user.isBlocked else { return .denied(.blocked) }
        guard actor.tokenID != nil, let scopes = actor.scopes else { return .denied(.unauthenticated) }
        if rotate, !scopes.contains(.api), !scopes.contains(.selfRotate) { return .denied(.insufficientScope(required: .selfRotate)) }
        return .allowed
    }
}
