/// Why a job's ID tokens could not be made.
enum IDTokenError: Error, CustomStringConvertible {
    case noSigningKey

    var description: String { "the server has no OIDC signing key" }
}
