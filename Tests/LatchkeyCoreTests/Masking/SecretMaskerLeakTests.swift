import Foundation
import Testing

@testable import LatchkeyCore

/// The leaks of issue 12, each printed the way a hostile job would print it.
@Suite("SecretMasker closes the leaks of issue 12")
struct SecretMaskerLeakTests {
    static let token = "glcbt-64_5f2a9c0e7b1d4a3f8e6c2b0a9d7f5e3c1b"
    static let variable = "s3cr3t-Variable_value"

    static func masked(_ bytes: [UInt8], secrets: [String] = [token, variable]) -> [UInt8] {
        var masker = SecretMasker(secrets: secrets)
        return masker.maskAll(bytes)
    }

    static func masked(_ text: String, secrets: [String] = [token, variable]) -> String {
        String(decoding: masked(Array(text.utf8), secrets: secrets), as: UTF8.self)
    }

    /// `base64` as coreutils writes it: wrapped at `width` columns (0: not wrapped), with a final newline.
    static func base64(_ bytes: [UInt8], width: Int) -> String {
        let encoded = Data(bytes).base64EncodedString()
        return wrapped(encoded, width: width)
    }

    static func wrapped(_ text: String, width: Int) -> String {
        guard width > 0 else { return text + "\n" }
        var lines: [Substring] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            lines.append(rest.prefix(width))
            rest = rest.dropFirst(width)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// RFC 4648 base32 with padding, written out here rather than taken from the masker.
    static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var output = ""
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        while output.count % 8 != 0 { output.append("=") }
        return output
    }

    /// What is left of `output` once every `[MASKED]` is taken out, to check that no secret byte group remains.
    static func unmasked(_ output: String) -> String { output.replacingOccurrences(of: SecretMasker.replacement, with: " ") }

    @Test("Line-wrapped base64 is masked at 76 columns (coreutils), 64 (openssl), -w 4 and every other width, with CRLF too")
    func wrappedBase64() {
        for secret in [Self.token, Self.variable] {
            for prefix in ["", "gitlab-ci-token:", "x", "xy"] {
                let data = Array((prefix + secret).utf8)
                for width in [76, 64, 4, 1, 2, 3, 5, 7, 10, 17, 60] {
                    let text = Self.base64(data, width: width)
                    let output = Self.masked(text)
                    #expect(output.contains(SecretMasker.replacement), "\(prefix) width \(width): \(output.debugDescription)")
                    // Only the characters the prefix alone encodes may remain: the mixed one is the variant's head.
                    let left = Self.unmasked(output).filter { !$0.isWhitespace }
                    #expect(left.count <= prefix.utf8.count * 8 / 6, "\(prefix) width \(width): \(output.debugDescription)")
                }
                let mime = Data(data).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
                #expect(Self.masked(mime).contains(SecretMasker.replacement))
            }
        }
    }

    @Test("Wrapped hex (xxd -p, 60 columns) is masked in lower and upper case")
    func wrappedHex() {
        let data = Array(("gitlab-ci-token:" + Self.token).utf8)
        let hex = data.map { String(format: "%02x", $0) }.joined()
        for text in [Self.wrapped(hex, width: 60), Self.wrapped(hex.uppercased(), width: 60), Self.wrapped(hex, width: 16)] {
            let output = Self.masked(text)
            #expect(!output.contains("676c636274"), "\(output.debugDescription)")
            #expect(!output.uppercased().contains("3634"), "\(output.debugDescription)")
        }
    }

    @Test("base32 at every alignment is masked, tail and padding included")
    func base32() {
        for secret in [Self.token, Self.variable] {
            for prefix in ["", "a", "ab", "abc", "abcd"] {
                let text = Self.base32(Array((prefix + secret).utf8))
                let output = Self.masked(text)
                #expect(output.contains(SecretMasker.replacement), "\(prefix) \(output)")
                #expect(Self.unmasked(output).filter { $0 != " " }.count <= prefix.count * 8 / 5, "\(prefix) \(output)")
                #expect(!output.hasSuffix("="), "\(prefix) \(output)")
            }
        }
    }

    @Test("UTF-16 little and big endian is masked, for ASCII and non-ASCII secrets")
    func utf16() {
        let accented = "pässwörd-ünïcode"
        for secret in [Self.token, Self.variable, accented] {
            for encoding in [String.Encoding.utf16LittleEndian, .utf16BigEndian] {
                let bytes = Array(("key=" + secret + "\n").data(using: encoding)!)
                let output = Self.masked(bytes, secrets: [Self.token, Self.variable, accented])
                #expect(ReferenceMasker.contains(Array(SecretMasker.replacement.utf8), in: output), "\(secret) \(encoding)")
                #expect(!ReferenceMasker.contains(Array(secret.suffix(6).data(using: encoding)!), in: output), "\(secret) \(encoding)")
            }
        }
    }

    @Test("The token without its prefix is masked")
    func tokenBody() {
        let body = String(Self.token.dropFirst("glcbt-".count))
        #expect(Self.masked("id=\(body);") == "id=[MASKED];")
    }

    @Test("Double base64 of every masked variable is masked, not only of tokens")
    func doubleBase64() {
        for leading in ["", "v=", "{\"k\":\""] {
            let inner = Data((leading + Self.variable + "\n").utf8).base64EncodedString()
            for outerLeading in ["", "a", "ab"] {
                let outer = Data((outerLeading + inner + "\n").utf8).base64EncodedString()
                let output = Self.masked(outer, secrets: [Self.variable])
                #expect(output.contains(SecretMasker.replacement), "\(leading) \(outerLeading) \(output)")
                // What remains encodes the leading text and what follows the inner encoding's mixed characters: nothing of the secret.
                #expect(output.components(separatedBy: SecretMasker.replacement).count == 2, "\(leading) \(outerLeading) \(output)")
                let innerLeading = leading.count * 8 / 6
                let leadingCharacters = (outerLeading.count + innerLeading) * 8 / 6
                #expect(output.count - SecretMasker.replacement.count <= leadingCharacters + 8, "\(leading) \(outerLeading) \(output)")
            }
        }
    }

    @Test("`echo $CI_JOB_TOKEN | base64` leaves nothing of the encoded newline group")
    func encodedNewlineGroup() {
        for secret in [Self.token, Self.variable, Self.variable + "x", Self.variable + "xy"] {
            let encoded = Data((secret + "\n").utf8).base64EncodedString()
            // When the secret fills its last group, the newline has a group of its own (`Cg==`), which holds nothing of the secret.
            let expected = secret.utf8.count % 3 == 0 ? "[MASKED]Cg==\n" : "[MASKED]\n"
            #expect(Self.masked(encoded + "\n", secrets: [secret]) == expected, "\(secret): \(encoded)")
            let exact = Data(secret.utf8).base64EncodedString()
            #expect(Self.masked(exact + "\n", secrets: [secret]) == "[MASKED]\n", "\(secret): \(exact)")
        }
    }

    @Test("A secret interrupted by colour codes, OSC, \\r, backspace or NUL is masked whole; what surrounds it stays")
    func interruptedSecret() {
        let cut = Self.token.index(Self.token.startIndex, offsetBy: 3)
        let head = String(Self.token[..<cut])
        let rest = String(Self.token[cut...])
        for interruption in ["\u{1B}[0m", "\u{1B}[1;31m\u{1B}[0m", "\r", "\u{8}", "\u{0}", "\u{1B}]0;t\u{7}", "\u{1B}]8;;u\u{1B}\\", "\r\u{1B}[0K"] {
            let text = "\u{1B}[32mtoken: \(head)\(interruption)\(rest)\u{1B}[0m\n"
            #expect(Self.masked(text) == "\u{1B}[32mtoken: [MASKED]\u{1B}[0m\n", "\(interruption.debugDescription)")
        }
        // An unknown token keeps its prefix visible and loses its body, colour codes and all.
        #expect(Self.masked("glc\u{1B}[0mbt-\u{1B}[1mAbC\u{1B}[0mdef rest", secrets: []) == "glc\u{1B}[0mbt-[MASKED] rest")
        // A token run ends at a line break, so the next line survives.
        #expect(Self.masked("glpat-abc\nnext line", secrets: []) == "glpat-[MASKED]\nnext line")
    }

    @Test("A secret split by a real or printed section marker is masked whole; markers elsewhere pass unchanged")
    func sectionMarkers() {
        let start = "\u{1B}[0Ksection_start:1700000000:step_script[collapsed=true]\r\u{1B}[0K"
        let end = "\u{1B}[0Ksection_end:1700000001:step_script\r\u{1B}[0K"
        for cut in [1, 3, 6, 20, Self.token.count - 1] {
            let index = Self.token.index(Self.token.startIndex, offsetBy: cut)
            let head = String(Self.token[..<index])
            let rest = String(Self.token[index...])
            for marker in [start, end, start + end, end + "\u{1B}[31m" + start] {
                let text = "\(start)token: \(head)\(marker)\(rest) done\n\(end)"
                #expect(Self.masked(text) == "\(start)token: [MASKED] done\n\(end)", "cut \(cut) \(marker.debugDescription)")
            }
        }
        // Each piece at most shows, never the token; a marker that is not complete is text, so nothing joins across it.
        for broken in ["\u{1B}[0Ksection_start:12:na me\r\u{1B}[0K", "\u{1B}[0Ksection_end:1:x\r\u{1B}[1K", "\u{1B}[0Ksection_end:9:a[b\r\n"] {
            let text = "v=s3cr3t-Var\(broken)iable_value\n"
            #expect(Self.masked(text) == text, "\(broken.debugDescription)")
        }
        // Across two trace requests, the candidate held back by the first.
        let text = Array("\(start)glcbt-64_5f2a9c0e\(end)7b1d4a3f8e6c2b0a9d7f5e3c1b!".utf8)
        let rules = SecretMaskingRules(secrets: [Self.token])
        for cut in 0...text.count {
            var first = SecretMasker(rules: rules)
            var output = first.mask(text[..<cut])
            var second = SecretMasker(rules: rules, resumingFrom: first.resumeState)
            output += second.mask(text[cut...]) + second.finish()
            #expect(String(decoding: output, as: UTF8.self) == "\(start)[MASKED]!", "cut at \(cut)")
        }
    }

    @Test("A secret inside an escape sequence (a window title) is masked in the raw bytes")
    func secretInsideEscape() {
        #expect(Self.masked("\u{1B}]0;\(Self.variable)\u{7}ok") == "\u{1B}]0;[MASKED]\u{7}ok")
        #expect(Self.masked("\u{1B}]0;glpat-abc\u{7}ok", secrets: []) == "\u{1B}]0;glpat-[MASKED]\u{7}ok")
    }

    @Test("A token run survives the hand-over between trace requests")
    func tokenRunAcrossRequests() {
        let text = Array("pat glpat-AAAABBBBCCCCDDDDEEEE done".utf8)
        let rules = SecretMaskingRules(secrets: [])
        for cut in 0...text.count {
            var first = SecretMasker(rules: rules)
            var output = first.mask(text[..<cut])
            var second = SecretMasker(rules: rules, resumingFrom: first.resumeState)
            output += second.mask(text[cut...])
            var last = SecretMasker(rules: rules, resumingFrom: second.resumeState)
            output += last.finish()
            #expect(String(decoding: output, as: UTF8.self) == "pat glpat-[MASKED] done", "cut at \(cut)")
        }
    }

    @Test("A resume state from other rules, or raw held bytes of an older server, never lets the held bytes through")
    func resumeWithOtherRules() {
        var first = SecretMasker(secrets: [Self.variable])
        #expect(String(decoding: first.mask(Array("x s3cr3t-Var".utf8)), as: UTF8.self) == "x ")
        var changed = SecretMasker(rules: SecretMaskingRules(secrets: [Self.variable, "another-secret"]), resumingFrom: first.resumeState)
        let output = String(decoding: changed.mask(Array("iable_value y".utf8)) + changed.finish(), as: UTF8.self)
        #expect(!output.contains("s3cr3t"), "\(output)")
        var legacy = SecretMasker(rules: SecretMaskingRules(secrets: [Self.variable]), resumingFrom: Array("s3cr3t-Var".utf8))
        #expect(String(decoding: legacy.mask(Array("iable_value y".utf8)) + legacy.finish(), as: UTF8.self) == "[MASKED] y")
    }

    @Test("Escape sequences are recognised as a terminal reads them, and runaway ones end at their limit")
    func parser() {
        #expect(TerminalSequenceParser.visibleBytes(of: Array("a\u{1B}[1;32mb\u{1B}]0;x\u{7}c\u{1B}]8;;y\u{1B}\\d\u{1B}(Be\r\nf\u{8}g\u{0}h".utf8)) == Array("abcdefgh".utf8))
        // A CSI cut by a line break ends there; the text after it is visible.
        #expect(TerminalSequenceParser.visibleBytes(of: Array("\u{1B}[12\nab".utf8)) == Array("ab".utf8))
        let runaway = Array("\u{1B}]".utf8) + [UInt8](repeating: UInt8(ascii: "z"), count: TerminalSequenceParser.maximumOSCLength + 10)
        #expect(TerminalSequenceParser.visibleBytes(of: runaway).count == runaway.count - TerminalSequenceParser.maximumOSCLength)
    }
}
