/// What a personal access token may be used for (GitLab's scope names).
public enum TokenScope: String, Codable, Sendable, CaseIterable {
    case api
    case readAPI = "read_api"
    case readUser = "read_user"
    case readRepository = "read_repository"
    case writeRepository = "write_repository"
    case sudo
    case adminMode = "admin_mode"
    case createRunner = "create_runner"
    case manageRunner = "manage_runner"
    case k8sProxy = "k8s_proxy"
    case readRegistry = "read_registry"
    case writeRegistry = "write_registry"
    case aiFeatures = "ai_features"
    /// GitLab 17.9: a token that may only rotate itself (`POST /personal_access_tokens/self/rotate`).
    case selfRotate = "self_rotate"
}

extension Set where Element == TokenScope {
    /// Whether the scopes allow calling the REST API with the given HTTP method.
    public func allowsAPI(write: Bool) -> Bool {
        if contains(.api) { return true }
        return !write && contains(.readAPI)
    }

    /// Whether the scopes allow reading a repository over git.
    public var allowsGitRead: Bool {
        contains(.api) || contains(.readRepository) || contains(.writeRepository)
    }

    /// Whether the scopes allow pushing over git.
    public var allowsGitWrite: Bool {
        contains(.api) || contains(.writeRepository)
    }
}
