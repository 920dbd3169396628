import Hummingbird
import LatchkeyCore

/// The request context every route sees: Hummingbird's core storage plus who is asking.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthenticationMiddleware`; anonymous until then.
    public var actor: Actor = .anonymous

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    // Uploads (artifacts, packages, git pushes) stream; JSON bodies are collected explicitly with their own limit.
    public var maxUploadSize: Int { 16 * 1024 * 1024 }
}
