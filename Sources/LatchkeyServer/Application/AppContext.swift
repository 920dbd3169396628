import Hummingbird
import NIOCore
import LatchkeyCore

/// The request context every route sees: Hummingbird's core storage plus who is asking.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's address (sign-in throttling keys on it).
    public let remoteAddress: SocketAddress?
    /// Set by `AuthenticationMiddleware`; anonymous until then.
    public var actor: Actor = .anonymous {
        didSet { requestRecord.actorKind = actor.kind }
    }
    /// What the access log reports of this request once it is answered; shared by every copy of the context.
    public let requestRecord = RequestRecord()
    /// The connection the request came on: a long poll watches it for its client leaving (`peerDeparture()`).
    let connection: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        connection = source.channel
    }

    // Uploads (artifacts, packages, git pushes) stream; JSON bodies are collected explicitly with their own limit.
    public var maxUploadSize: Int { 16 * 1024 * 1024 }
}
