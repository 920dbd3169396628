/// Why the runner could not register, verify, talk to the server or read its configuration.
public enum RunnerError: Error, CustomStringConvertible, Equatable {
    /// The registration token was refused (403).
    case registrationRefused
    /// The runner token is not valid (403).
    case invalidRunnerToken
    /// The server answered something the protocol does not allow here.
    case unexpectedResponse(status: Int, message: String)
    /// The server URL cannot be used.
    case invalidURL(String)
    /// The configuration file is unreadable or incomplete.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .registrationRefused: "the server refused the registration token (403 Forbidden)"
        case .invalidRunnerToken: "the server does not accept this runner's token (403 Forbidden); register the runner again"
        case .unexpectedResponse(let status, let message): "unexpected answer from the server: HTTP \(status) \(message)"
        case .invalidURL(let url): "invalid server URL: \(url)"
        case .invalidConfiguration(let reason): "invalid runner configuration: \(reason)"
        }
    }
}
