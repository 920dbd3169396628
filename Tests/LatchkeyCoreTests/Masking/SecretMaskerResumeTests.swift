import Testing

@testable import LatchkeyCore

/// The server masks each trace request with a fresh masker fed the bytes the previous one held back.
@Suite("Resuming a masker from its held bytes")
struct SecretMaskerResumeTests {
    /// Masks `text` in requests split at `cuts`, the way the server does between PATCH requests.
    static func maskInRequests(_ text: [UInt8], cuts: [Int], rules: SecretMaskingRules) -> [UInt8] {
        var output: [UInt8] = []
        var held: [UInt8] = []
        var start = 0
        for cut in cuts + [text.count] {
            var masker = SecretMasker(rules: rules)
            output += masker.mask(held + text[start..<cut])
            held = masker.heldBytes
            start = cut
        }
        var last = SecretMasker(rules: rules)
        output += last.mask(held)
        output += last.finish()
        return output
    }

    @Test("a secret split across requests is masked, and text without secrets passes unchanged")
    func splitSecret() {
        let secret = "glcbt-abcdefghijklmnopqrstuvwxyz0123456789"
        let rules = SecretMaskingRules(secrets: [secret, "aaaaaaab"])
        let text = Array("before \(secret) middle aaaaaaaaab after".utf8)
        for cut in 1..<text.count {
            let masked = String(decoding: Self.maskInRequests(text, cuts: [cut], rules: rules), as: UTF8.self)
            #expect(!masked.contains("abcdefghijklmnop"), "cut at \(cut): \(masked)")
            #expect(!masked.contains("aaaaaaab"), "cut at \(cut): \(masked)")
            #expect(masked.hasPrefix("before "))
            #expect(masked.hasSuffix(" after"))
        }
        let plain = Array("nothing secret here, just text\n".utf8)
        #expect(Self.maskInRequests(plain, cuts: [3, 10, 20], rules: rules) == plain)
    }

    @Test("random texts, secrets and request boundaries never let a secret through")
    func randomised() {
        var random = SplitMix64(seed: 0x5EED_CAFE)
        let alphabet = Array("ab01-_".utf8)
        var cases = 0
        for _ in 0..<400 {
            let secrets = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                String(decoding: (0..<Int.random(in: 8...16, using: &random)).map { _ in alphabet.randomElement(using: &random)! }, as: UTF8.self)
            }
            let rules = SecretMaskingRules(secrets: secrets, prefixes: [])
            var text: [UInt8] = []
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                text += (0..<Int.random(in: 0...12, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
                text += Array(secrets.randomElement(using: &random)!.utf8)
            }
            let cuts = (0..<Int.random(in: 1...4, using: &random)).map { _ in Int.random(in: 0...text.count, using: &random) }.sorted()
            let masked = Self.maskInRequests(text, cuts: cuts, rules: rules)
            for secret in secrets {
                #expect(ReferenceMasker.occurrences(of: Array(secret.utf8), in: masked).isEmpty, "secret \(secret) survived in \(String(decoding: masked, as: UTF8.self))")
            }
            cases += 1
        }
        #expect(cases == 400)
    }
}
