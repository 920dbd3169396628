/// One entry of a job's `id_tokens:`: the variable that will hold an OIDC ID token and the audiences it is for.
public struct IDTokenDefinition: Codable, Sendable, Equatable {
    /// The CI/CD variable name (`VAULT_ID_TOKEN`).
    public var name: String
    /// `aud`: one audience or several.
    public var audiences: [String]

    public init(name: String, audiences: [String]) {
        self.name = name
        self.audiences = audiences
    }
}
