/// Which job tokens the server mints and accepts (`job_token_format`).
public enum JobTokenFormat: String, Sendable, CaseIterable {
    /// Mint JWTs (GitLab 19's default), accept JWTs and opaque tokens minted before.
    case jwt
    /// Mint JWTs and refuse opaque tokens.
    case jwtOnly = "jwt_only"
    /// Mint opaque tokens (as before 17.10), accept both.
    case opaque

    /// Whether new jobs get a signed token.
    public var mintsJWT: Bool { self != .opaque }
    /// Whether an opaque `glcbt-` token is looked up at all.
    public var acceptsOpaque: Bool { self != .jwtOnly }
}
