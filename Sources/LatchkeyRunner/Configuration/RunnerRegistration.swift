import AsyncHTTPClient

/// Registers, verifies and unregisters a runner with a server (`/api/v4/runners`).
public enum RunnerRegistration {
    /// Registers a new runner with a registration token and returns its configuration (save it with `save(to:)`).
    public static func register(
        url: String, registrationToken: String, description: String, tags: [String] = [], runUntagged: Bool = true,
        httpClient: HTTPClient = .shared
    ) async throws -> RunnerConfiguration {
        let api = try HTTPRunnerAPI(url: url, client: httpClient)
        let response = try await api.register(
            RegistrationRequest(token: registrationToken, description: description, tagList: tags, runUntagged: runUntagged, info: .current))
        return RunnerConfiguration(url: api.baseURL, token: response.token, id: response.id, tokenExpiresAt: response.tokenExpiresAt, name: description)
    }

    /// Checks that the server still accepts the runner's token; throws `RunnerError.invalidRunnerToken` when it does not.
    public static func verify(_ configuration: RunnerConfiguration, httpClient: HTTPClient = .shared) async throws {
        try await HTTPRunnerAPI(url: configuration.url, client: httpClient).verify(token: configuration.token, systemID: configuration.systemID)
    }

    /// Deletes the runner on the server; its token stops working.
    public static func unregister(_ configuration: RunnerConfiguration, httpClient: HTTPClient = .shared) async throws {
        try await HTTPRunnerAPI(url: configuration.url, client: httpClient).unregister(token: configuration.token)
    }
}
