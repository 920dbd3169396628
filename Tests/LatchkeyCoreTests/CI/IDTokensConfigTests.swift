import Testing

@testable import LatchkeyCore

@Suite("Reading id_tokens")
struct IDTokensConfigTests {
    @Test("id_tokens give each variable its audiences, one or several")
    func audiences() throws {
        let definition = try CIConfigParser.parse(
            """
            deploy:
              id_tokens:
                VAULT_ID_TOKEN: {aud: https://vault.example}
                CLOUD: {aud: [aws, gcp]}
              script: [deploy]
            """)
        let job = try #require(definition.jobs.first)
        #expect(
            job.idTokens == [
                IDTokenDefinition(name: "VAULT_ID_TOKEN", audiences: ["https://vault.example"]), IDTokenDefinition(name: "CLOUD", audiences: ["aws", "gcp"]),
            ])
    }

    @Test(
        "a malformed id_tokens entry is refused with the key named",
        arguments: [
            ("id_tokens: [a]", "jobs:deploy:id_tokens config should be a hash"),
            ("id_tokens: {A: text}", "jobs:deploy:id_tokens:a config should be a hash"),
            ("id_tokens: {A: {}}", "jobs:deploy:id_tokens:a aud config can't be blank"),
            ("id_tokens: {A: {aud: [1, {b: c}]}}", "jobs:deploy:id_tokens:a aud config should be a string or an array of strings"),
            ("id_tokens: {A: {aud: x, issuer: y}}", "jobs:deploy:id_tokens:a config contains unknown keys: issuer"),
            ("id_tokens: {'1bad': {aud: x}}", "jobs:deploy:id_tokens:1bad config should be a variable name"),
        ])
    func refused(entry: String, message: String) {
        do {
            _ = try CIConfigParser.parse("deploy:\n  \(entry)\n  script: [deploy]\n")
            Issue.record("accepted \(entry)")
        } catch {
            #expect(error.messages.contains(message), "\(error.messages)")
        }
    }
}
