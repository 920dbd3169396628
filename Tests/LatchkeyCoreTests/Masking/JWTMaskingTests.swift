import Foundation
import Testing

@testable import LatchkeyCore

@Suite("Masking a JWT job token")
struct JWTMaskingTests {
    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A token shaped as Latchkey mints them: `glcbt-` + header.payload.signature (the signature 256 random bytes).
    static let token: String = {
        var generator = SplitMix64(seed: 42)
        let header = base64URL(#"{"alg":"RS256","kid":"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG","typ":"JWT"}"#)
        let payload = base64URL(
            #"{"jti":"6d1c0d6e-4e3b-4c2a-9f7e-2b8a1d3c4e5f","aud":"gitlab-authz-token","sub":"gid://gitlab/Ci::Build/42","iss":"ci.example","iat":1764650000,"nbf":1764649995,"exp":1764653900,"version":"0.1.0","u":"1","p":"c"}"#)
        let signature = Data((0..<256).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "glcbt-\(header).\(payload).\(signature)"
    }()

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static var parts: [String] { token.dropFirst(6).split(separator: ".").map(String.init) }

    private func masked(_ text: String, chunk: Int? = nil) -> String {
        var masker = SecretMasker(secrets: [Self.token])
        let bytes = Array(text.utf8)
        guard let chunk else { return String(decoding: masker.maskAll(bytes), as: UTF8.self) }
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            output += masker.mask(Array(bytes[index..<min(index + chunk, bytes.count)]))
            index += chunk
        }
        output += masker.finish()
        return String(decoding: output, as: UTF8.self)
    }

    /// Whether any 16 consecutive characters of `secret` survive in `output`.
    private func leaks(_ secret: String, in output: String) -> Bool {
        let characters = Array(secret)
        guard characters.count >= 16 else { return output.contains(secret) }
        return (0...(characters.count - 16)).contains { output.contains(String(characters[$0..<($0 + 16)])) }
    }

    @Test("the whole token, its body without the prefix and each of its three base64url parts are masked, in any chunking")
    func wholeAndParts() {
        for chunk in [nil, 1, 7, 64] {
            #expect(masked("token=\(Self.token) end", chunk: chunk) == "token=[MASKED] end")
            #expect(masked("body=\(Self.token.dropFirst(6)) end", chunk: chunk) == "body=[MASKED] end")
            for part in Self.parts {
                #expect(masked("part=\(part) end", chunk: chunk) == "part=[MASKED] end", "\(part.prefix(12))")
            }
        }
    }

    @Test("encoded forms of the whole token and of each part leave none of the signature or payload: base64, base64url, hex, URL, JSON, double base64")
    func encodedForms() {
        let signature = Self.parts[2], payload = Self.parts[1]
        var forms: [String] = []
        for value in [Self.token, String(Self.token.dropFirst(6)), signature, payload] {
            let data = Data(value.utf8)
            let base64 = data.base64EncodedString()
            forms += [
                base64, base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_"),
                data.map { String(format: "%02x", $0) }.joined(), data.map { String(format: "%02X", $0) }.joined(),
                Data(base64.utf8).base64EncodedString(), "\"\(value)\"",
                // RFC 3986 percent-encoding (curl --data-urlencode, Python's quote): base64url characters are unreserved.
                value.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? value, "{\"token\":\"\(value)\"}",
            ]
        }
        for form in forms {
            let output = masked("<\(form)>")
            #expect(output.contains("[MASKED]"), "\(form.prefix(24))")
            // What survives is at most a few boundary characters, never a run of the secret's encodings.
            for secret in [signature, payload] {
                #expect(!leaks(secret, in: output), "\(form.prefix(24)) \(output.prefix(80))")
                let encodedSecret = Data(secret.utf8).base64EncodedString()
                #expect(!leaks(String(encodedSecret.dropFirst(4).dropLast(4)), in: output), "\(form.prefix(24)) \(output.prefix(80))")
            }
        }
    }

    @Test("a JWT compiles to its parts' variants, not the whole token's and its body's (about 60 KB of patterns more)")
    func compactRules() {
        let rules = SecretMaskingRules(secrets: [Self.token])
        let bytes = rules.literals.patterns.reduce(0) { $0 + $1.count }
        let wholeBase64 = Array(Data(Self.token.utf8).base64EncodedString().utf8.prefix(200))
        #expect(!rules.literals.patterns.contains { $0.starts(with: wholeBase64) })
        #expect(bytes < 50_000, "\(bytes) bytes of patterns")
    }

    @Test("JobTokenShape tells opaque from JWT job tokens and refuses anything else, long ones included")
    func shapes() {
        #expect(JobTokenShape.of(SecretToken.mint(.jobToken).value) == .opaque)
        #expect(JobTokenShape.of(Self.token) == .jwt(String(Self.token.dropFirst(6))))
        for refused in [
            "", "glcbt-", "glpat-abc", "glcbt-a.b", "glcbt-a..b", "glcbt-.a.b", "glcbt-a.b.", "glcbt-a.b.c.d", "glcbt-a+b", "glcbt-a b", "glcbt-ab=",
            "glcbt-" + String(repeating: "a", count: JobTokenShape.maximumLength), "glcbt-é",
        ] {
            #expect(JobTokenShape.of(refused) == nil, "\(refused.prefix(20))")
        }
        #expect(JobTokenShape.of("glcbt-" + String(repeating: "a", count: JobTokenShape.maximumLength - 6)) == .opaque)
    }
}
