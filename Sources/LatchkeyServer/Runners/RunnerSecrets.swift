import Foundation
import LatchkeyCore
import LatchkeyStore

/// The instance's runner registration token: a file in the data directory (mode 0600), shown to administrators.
struct RegistrationToken: Sendable {
    let file: URL

    /// Reads the token, creating it on first use.
    func value() throws -> String {
        if let data = FileManager.default.contents(atPath: file.path), let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
            return text
        }
        let token = SecretToken.mint(.registration).value
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".registration-token-\(UUID().uuidString)")
        try FileManager.default.createPrivateFile(at: temporary, contents: Data(token.utf8))
        try FileManager.default.moveItem(at: temporary, to: file)
        return token
    }

    /// Constant-time comparison with a presented token.
    func matches(_ presented: String) -> Bool {
        guard let expected = try? value() else { return false }
        let a = Array(expected.utf8)
        let b = Array(presented.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

extension ServerEnvironment {
    /// The secrets the server masks in a job's incoming trace: its token, its runner's token and its masked variables.
    func traceSecrets(for job: Job) async throws -> [String] {
        var secrets: [String] = []
        if let nonce = try await store.jobs.tokenNonce(jobID: job.id) { secrets.append(digester.derive(.jobToken, nonce: nonce).value) }
        if let runnerID = job.runnerID, let runner = try await store.runners.find(id: runnerID) {
            secrets.append(digester.derive(.runner, nonce: runner.tokenNonce).value)
        }
        secrets += try await store.variables.list(projectID: job.projectID).filter(\.masked).map(\.value)
        return secrets
    }

    /// The embedded runner's token, creating its runner on first start.
    public func embeddedRunnerToken() async throws -> String {
        if let runner = try await store.runners.list().first(where: \.embedded) {
            return digester.derive(.runner, nonce: runner.tokenNonce).value
        }
        let nonce = TokenDigester.nonce()
        let token = digester.derive(.runner, nonce: nonce)
        _ = try await store.runners.create(
            description: "embedded runner", tokenDigest: digester.digest(token), tokenNonce: nonce, tags: [], runUntagged: true, locked: false, embedded: true,
            version: "latchkey")
        return token.value
    }
}

/// The registration token file, for the CLI and tests.
public enum RegistrationTokenFile {
    /// The instance's runner registration token in `dataDirectory`, created on first use.
    public static func value(in dataDirectory: URL) throws -> String {
        try RegistrationToken(file: dataDirectory.appendingPathComponent("registration-token")).value()
    }
}
