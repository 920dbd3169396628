import Foundation
import LatchkeyCore
import LatchkeyStore

/// The instance's runner registration token: sealed in the database, so every instance and `admin` command on it agrees.
struct RegistrationToken: Sendable {
    static let key = "runner_registration_token"
    let settings: SettingsRepository
    /// Where an older release kept the token: taken over (then removed) on first use, so existing runners keep registering.
    let legacyFile: URL

    /// Reads the token, creating it on first use.
    func value() async throws -> String {
        let legacyFile = legacyFile
        let token = try await settings.secret(Self.key) {
            if let data = FileManager.default.contents(atPath: legacyFile.path),
                let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty
            {
                return text
            }
            return SecretToken.mint(.registration).value
        }
        if FileManager.default.fileExists(atPath: legacyFile.path) { try? FileManager.default.removeItem(at: legacyFile) }
        return token
    }

    /// Constant-time comparison with a presented token.
    func matches(_ presented: String) async -> Bool {
        guard let expected = try? await value() else { return false }
        let a = Array(expected.utf8)
        let b = Array(presented.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

extension ServerEnvironment {
    /// The secrets the server masks in a job's incoming trace: its token, its runner's token and the masked variables of its
    /// project, its groups and the instance (all of them, as the database holds them, so every instance compiles the same rules for a job; a masker
    /// state stored by one resumes exactly on another). `token` and `runnerToken`, when the caller has them, spare their
    /// lookups.
    func traceSecrets(for job: Job, token: String? = nil, runnerToken: String? = nil) async throws -> [String] {
        var secrets: [String] = []
        if let token {
            secrets.append(token)
        } else if let token = try await liveJobToken(jobID: job.id) {
            secrets.append(token)
        }
        if let runnerToken {
            secrets.append(runnerToken)
        } else if let runnerID = job.runnerID, let runner = try await store.runners.find(id: runnerID) {
            secrets.append(digester.derive(.runner, nonce: runner.tokenNonce).value)
        }
        // Every masked variable the job could hold, at every level and whatever its scope: masking one it did not get costs nothing.
        secrets += try await inheritedVariables(projectID: job.projectID).all.filter(\.masked).map(\.value)
        return secrets
    }

    /// The embedded runner's token, creating its runner on first start.
    public func embeddedRunnerToken() async throws -> String {
        if let runner = try await store.runners.list().first(where: \.embedded) {
            // `--runner-tags` is read at every start: the runner takes the tags it is started with.
            if runner.tags != settings.embeddedRunnerTags { try await store.runners.setTags(id: runner.id, tags: settings.embeddedRunnerTags) }
            return digester.derive(.runner, nonce: runner.tokenNonce).value
        }
        let nonce = TokenDigester.nonce()
        let token = digester.derive(.runner, nonce: nonce)
        _ = try await store.runners.create(
            description: "embedded runner", tokenDigest: digester.digest(token), tokenNonce: nonce, tags: settings.embeddedRunnerTags, runUntagged: true, locked: false, embedded: true,
            version: "latchkey")
        return token.value
    }
}

extension ServerEnvironment {
    /// The instance's runner registration token (in the database), created on first use.
    var registration: RegistrationToken {
        RegistrationToken(settings: store.settings, legacyFile: settings.dataDirectory.appendingPathComponent("registration-token"))
    }

    /// The instance's runner registration token, for administrators, the CLI and tests.
    public func registrationToken() async throws -> String { try await registration.value() }
}
