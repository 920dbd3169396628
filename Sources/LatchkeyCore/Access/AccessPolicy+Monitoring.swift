extension AccessPolicy {
    /// Who may read `/-/metrics`: a caller on this host (not through a proxy), else an administrator's own token with
    /// `read_api` or `api`. Anyone else gets 404, as GitLab answers callers outside its monitoring allowlist.
    public static func mayReadMetrics(_ actor: Actor, fromLocalHost: Bool) -> Decision {
        if fromLocalHost { return .allowed }
        switch actor {
        case .anonymous:
            return .denied(.unauthenticated)
        case .job:
            return .denied(.notFound)
        case .user(let userActor):
            guard !userActor.user.isBlocked else { return .denied(.blocked) }
            guard userActor.user.isAdmin else { return .denied(.notFound) }
            if let scopes = userActor.scopes, scopes.isDisjoint(with: [.api, .readAPI]) { return .denied(.insufficientScope(required: .readAPI)) }
            return .allowed
        }
    }
}
