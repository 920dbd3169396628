import LatchkeyCore
import Synchronization

/// Facts about a request that inner middleware learn and the access log needs: who was asking (never their token).
public final class RequestRecord: Sendable {
    private let kind = Mutex("anonymous")

    public init() {}

    /// `anonymous`, `user` or `job`.
    public var actorKind: String {
        get { kind.withLock { $0 } }
        set { kind.withLock { $0 = newValue } }
    }
}

extension Actor {
    /// The kind of caller, for logs.
    var kind: String {
        switch self {
        case .anonymous: "anonymous"
        case .user: "user"
        case .job: "job"
        }
    }
}
