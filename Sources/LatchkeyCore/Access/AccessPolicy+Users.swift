/// Something an actor may want to do with a user account.
public enum UserAbility: String, Sendable, CaseIterable {
    /// See the full profile (email, admin flag): the user themselves or an administrator.
    case readFullProfile = "read_user_profile"
    /// Create, change, block or delete accounts, and act on other users' tokens: administrators only.
    case administer = "admin_users"
}

extension AccessPolicy {
    /// Whether `actor` may use `ability` on the account `userID` (nil: on accounts in general, such as listing or creating them).
    public static func decide(_ actor: Actor, _ ability: UserAbility, user userID: Int64?) -> Decision {
        switch ability {
        case .administer:
            return mayAdministerInstance(actor)
        case .readFullProfile:
            if mayAdministerInstance(actor).isAllowed { return .allowed }
            guard let signedIn = actor.signedInUser else { return .denied(.unauthenticated) }
            return userID == signedIn.id ? .allowed : .denied(notOwner(nil))
        }
    }
}
