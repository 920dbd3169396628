import Foundation
import Testing

@testable import LatchkeyCore

@Suite("SecretMaskingRules variants")
struct SecretMaskingVariantTests {
    static let secret = "p@ss/w+rd:\"q\\uoté\"=é&?"

    private func maskedOnce(_ text: String, secrets: [String] = [secret]) -> String {
        var masker = SecretMasker(secrets: secrets)
        return String(decoding: masker.maskAll(Array(text.utf8)), as: UTF8.self)
    }

    @Test("Base64 of a secret embedded at any alignment is masked, standard and URL-safe, leaving only boundary characters")
    func base64AtEveryAlignment() {
        let secret = Array(Self.secret.utf8)
        var generator = SplitMix64(seed: 7)
        for leading in 0..<6 {
            for trailing in 0..<4 {
                let data =
                    (0..<leading).map { _ in UInt8.random(in: 0...255, using: &generator) } + secret
                    + (0..<trailing).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let standard = Data(data).base64EncodedString()
                let urlSafe = standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                for encoded in [standard, urlSafe] {
                    let output = maskedOnce("<\(encoded)>")
                    #expect(output.components(separatedBy: SecretMasker.replacement).count == 2, "\(leading) \(trailing) \(output)")
                    // Visible: the brackets and the characters only the other bytes encode; mixed characters on either side are masked.
                    let visible = output.count - SecretMasker.replacement.count - 2
                    let otherCharacters = leading * 8 / 6 + (trailing + 2) / 3 * 4
                    #expect(visible <= otherCharacters, "\(leading) \(trailing) \(output)")
                }
            }
        }
    }

    @Test("The base64 cores are exactly the characters Foundation produces for the secret at each alignment")
    func base64CoresMatchFoundation() {
        let secret = Array("0123456789abcdefXYZ".utf8)
        let cores = SecretMaskingRules.base64Cores(of: secret, alphabet: SecretMaskingRules.base64Standard)
        for offset in 0..<3 {
            let encoded = Array(Data([UInt8](repeating: 0xFF, count: offset) + secret + [0xFF, 0xFF]).base64EncodedString().utf8)
            let other = Array(Data([UInt8](repeating: 0x00, count: offset) + secret + [0x00]).base64EncodedString().utf8)
            let first = [0, 2, 3][offset]
            #expect(Array(encoded[first..<(first + cores[offset].count)]) == cores[offset])
            #expect(Array(other[first..<(first + cores[offset].count)]) == cores[offset])
            // One more character on either side would depend on the neighbouring bytes.
            #expect(offset == 0 || encoded[first - 1] != other[first - 1])
            #expect(encoded[first + cores[offset].count] != other[first + cores[offset].count])
        }
    }

    @Test("URL-encoded secrets are masked with upper- and lower-case hex")
    func urlEncoded() {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let upper = Self.secret.addingPercentEncoding(withAllowedCharacters: unreserved)!
        let lower = upper.replacing(/%[0-9A-F]{2}/) { $0.output.lowercased() }
        #expect(upper != lower)
        #expect(maskedOnce("?q=\(upper)&x") == "?q=[MASKED]&x")
        #expect(maskedOnce("?q=\(lower)&x") == "?q=[MASKED]&x")
        #expect(maskedOnce("q=a+b+c+d+e", secrets: ["a b c d e"]) == "q=[MASKED]")
    }

    /// One secret as each common URL encoder writes it: node's and Python's outputs as they printed them, PHP's `urlencode` and
    /// Go's `url.PathEscape` by their documented sets.
    static let encoderOutputs: [(encoder: String, output: String)] = [
        ("encodeURIComponent", "pa%20ss!*()~%2F%3A%40%26%3D%2B%24%2C%3B%23%3F%5B%5Dx"),
        ("encodeURI", "pa%20ss!*()~/:@&=+$,;#?%5B%5Dx"),
        ("URLSearchParams", "pa+ss%21*%28%29%7E%2F%3A%40%26%3D%2B%24%2C%3B%23%3F%5B%5Dx"),
        ("urllib.parse.quote", "pa%20ss%21%2A%28%29~/%3A%40%26%3D%2B%24%2C%3B%23%3F%5B%5Dx"),
        ("urllib.parse.quote(safe='')", "pa%20ss%21%2A%28%29~%2F%3A%40%26%3D%2B%24%2C%3B%23%3F%5B%5Dx"),
        ("urllib.parse.quote_plus", "pa+ss%21%2A%28%29~%2F%3A%40%26%3D%2B%24%2C%3B%23%3F%5B%5Dx"),
        ("PHP urlencode", "pa+ss%21%2A%28%29%7E%2F%3A%40%26%3D%2B%24%2C%3B%23%3F%5B%5Dx"),
        ("Go url.PathEscape", "pa%20ss%21%2A%28%29~%2F:@&=+$%2C%3B%23%3F%5B%5Dx"),
    ]

    @Test("A secret URL-encoded by any common encoder (each leaves other punctuation alone) is masked", arguments: encoderOutputs)
    func urlEncoders(_ example: (encoder: String, output: String)) {
        let secret = "pa ss!*()~/:@&=+$,;#?[]x"
        #expect(maskedOnce("u=\(example.output)&", secrets: [secret]) == "u=[MASKED]&", "\(example.encoder)")
    }

    @Test("A secret with every byte percent-escaped, in upper or lower hex, is masked")
    func everyBytePercentEscaped() {
        let secret = "glpat-Abc123_xyz.987"
        let upper = secret.utf8.map { String(format: "%%%02X", $0) }.joined()
        let lower = upper.lowercased()
        #expect(maskedOnce("u=\(upper)&", secrets: [secret]) == "u=[MASKED]&")
        #expect(maskedOnce("u=\(lower)&", secrets: [secret]) == "u=[MASKED]&")
    }

    @Test("JSON-escaped secrets are masked, with and without escaped slashes and as ASCII-only escapes")
    func jsonEscaped() throws {
        // A tab is the one control character a secret may hold; the others are transparent to matching, so such secrets are refused.
        let secret = Self.secret + "\t/"
        for options in [JSONEncoder.OutputFormatting.withoutEscapingSlashes, []] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = options
            let json = String(decoding: try encoder.encode(["k": secret]), as: UTF8.self)
            #expect(maskedOnce(json, secrets: [secret]) == "{\"k\":\"[MASKED]\"}", "\(json)")
        }
        // Python's json.dumps default: {"k": "p@ss/w+rd:\"q\\uot\u00e9\"=\u00e9&?"}
        let python = "{\"k\": \"p@ss/w+rd:\\\"q\\\\uot\\u00e9\\\"=\\u00e9&?\"}"
        #expect(maskedOnce(python) == "{\"k\": \"[MASKED]\"}")
    }

    @Test("Hex-encoded secrets are masked in lower and upper case")
    func hexEncoded() {
        let lower = Self.secret.utf8.map { String(format: "%02x", $0) }.joined()
        #expect(maskedOnce("0x\(lower)!") == "0x[MASKED]!")
        #expect(maskedOnce("0x\(lower.uppercased())!") == "0x[MASKED]!")
    }

    @Test("Double base64 of a token we mint is masked, at every alignment")
    func doubleBase64OfTokens() {
        let token = "glcbt-64_abcdefghijklmnopqrstuvwxyz0123"
        for leading in ["", "{", "{\"", "{\"t"] {
            let inner = Data((leading + token + "\"}").utf8).base64EncodedString()
            for outerLeading in ["", "a", "ab"] {
                let outer = Data((outerLeading + inner + "\n").utf8).base64EncodedString()
                let output = maskedOnce(outer, secrets: [token])
                #expect(output.contains(SecretMasker.replacement), "\(leading) \(outerLeading) \(output)")
                #expect(output.count < outer.count / 2, "\(leading) \(outerLeading) \(output)")
            }
        }
    }

    @Test("Variants are deduplicated and none is shorter than eight bytes")
    func variantsAreDistinctAndLongEnough() {
        let rules = SecretMaskingRules(secrets: ["abcdefgh", "abcdefgh", "xyz12345"])
        #expect(Set(rules.patterns).count == rules.patterns.count)
        #expect(rules.patterns.allSatisfy { $0.count >= 8 })
        #expect(rules.patterns.contains(Array("YWJjZGVmZ2".utf8)))
        #expect(rules.patterns.contains(Array("6162636465666768".utf8)))
        // The last character of "YWJjZGVmZ2g=" also holds four bits of whatever follows the secret.
        #expect(!rules.patterns.contains(Array("YWJjZGVmZ2g".utf8)))
    }
}
