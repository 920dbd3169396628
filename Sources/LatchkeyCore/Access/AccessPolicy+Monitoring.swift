extension AccessPolicy {
    /// Who may read `/-/metrics`: an administrator's own token with `read_api` or `api`; anyone else gets 404, as GitLab answers
    /// callers outside its monitoring allowlist.
    ///
    /// Unlike GitLab, being on the server's host is not enough: jobs of a runner on that host share its network (the sandbox
    /// does not unshare it), and behind a reverse proxy every caller comes from loopback.
    public static func mayReadMetrics(_ actor: Actor) -> Decision {
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
