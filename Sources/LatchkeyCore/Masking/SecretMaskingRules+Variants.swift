extension SecretMaskingRules {
    static let base64Standard = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let base64URLSafe = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    static let hexLower = Array("0123456789abcdef".utf8)
    static let hexUpper = Array("0123456789ABCDEF".utf8)

    /// The encodings under which a secret commonly ends up in a log; duplicates and short ones are filtered by the caller.
    static func encodedVariants(of secret: [UInt8], isToken: Bool) -> [[UInt8]] {
        var variants: [[UInt8]] = []
        variants += base64Cores(of: secret, alphabet: base64Standard)
        variants += base64Cores(of: secret, alphabet: base64URLSafe)
        variants.append(percentEncoded(secret, hexDigits: hexUpper, spaceAsPlus: false))
        variants.append(percentEncoded(secret, hexDigits: hexLower, spaceAsPlus: false))
        if secret.contains(0x20) {
            // Form encoding (application/x-www-form-urlencoded) writes a space as `+`.
            variants.append(percentEncoded(secret, hexDigits: hexUpper, spaceAsPlus: true))
        }
        variants.append(jsonEscaped(secret, escapingSlash: false))
        // Foundation's JSONEncoder (and PHP's json_encode) write `/` as `\/`.
        variants.append(jsonEscaped(secret, escapingSlash: true))
        if let asciiOnly = jsonEscapedASCII(secret) {
            // Python's json.dumps escapes every non-ASCII character as \uXXXX by default.
            variants.append(asciiOnly)
        }
        variants.append(hex(secret, digits: hexLower))
        variants.append(hex(secret, digits: hexUpper))
        if isToken {
            // A compromised job printing `secrets | base64 | base64` (tj-actions, 2025) must not
            // leak the tokens we mint; the inner encoding may sit at any alignment in a larger blob.
            for inner in base64Cores(of: secret, alphabet: base64Standard) {
                variants += base64Cores(of: inner, alphabet: base64Standard)
            }
        }
        return variants
    }

    /// The base64 characters of `bytes` that do not depend on surrounding data, for each of the three byte alignments.
    ///
    /// Embedded at offset k (mod 3) in a larger stream, the bytes occupy bits [8k, 8(k+n)) of the
    /// encoded group sequence, and output character c encodes bits [6c, 6c+6). That character is
    /// fully determined by the secret iff 8k <= 6c and 6c+6 <= 8(k+n). So the first determined
    /// character is ceil(8k/6) (0, 2, 3 for k = 0, 1, 2: with one leading byte the second
    /// character still holds two of its bits) and the last one is floor(8(k+n)/6) - 1 (the
    /// trailing partial character mixes in the next byte or the zero padding, and `=` padding is
    /// dropped). Encoding k zero bytes followed by the secret and keeping that window gives the core.
    static func base64Cores(of bytes: [UInt8], alphabet: [UInt8]) -> [[UInt8]] {
        (0..<3).map { offset in
            let padded = [UInt8](repeating: 0, count: offset) + bytes
            let bitCount = 8 * padded.count
            let first = (8 * offset + 5) / 6
            let end = bitCount / 6
            guard end > first else { return [] }
            var core: [UInt8] = []
            core.reserveCapacity(end - first)
            for character in first..<end {
                let bit = 6 * character
                let byteIndex = bit / 8
                // Read 16 bits starting at byteIndex so the 6-bit window is always inside.
                let high = UInt16(padded[byteIndex]) << 8
                let low = byteIndex + 1 < padded.count ? UInt16(padded[byteIndex + 1]) : 0
                let value = Int(((high | low) >> (10 - (bit % 8))) & 0x3F)
                core.append(alphabet[value])
            }
            return core
        }
    }

    /// Percent-encoding of every byte outside RFC 3986's unreserved set.
    static func percentEncoded(_ bytes: [UInt8], hexDigits: [UInt8], spaceAsPlus: Bool) -> [UInt8] {
        var result: [UInt8] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.append(byte)
            case 0x20 where spaceAsPlus:
                result.append(UInt8(ascii: "+"))
            default:
                result += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            }
        }
        return result
    }

    /// JSON string escaping (RFC 8259) of the secret, UTF-8 left as is.
    static func jsonEscaped(_ bytes: [UInt8], escapingSlash: Bool) -> [UInt8] {
        var result: [UInt8] = []
        for byte in bytes {
            if byte >= 0x80 {
                result.append(byte)
            } else {
                appendJSONEscaped(UInt16(byte), escapingSlash: escapingSlash, to: &result)
            }
        }
        return result
    }

    /// JSON escaping with every non-ASCII character as a `\uXXXX` UTF-16 escape, or nil when the secret is ASCII or not UTF-8.
    static func jsonEscapedASCII(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.contains(where: { $0 >= 0x80 }), let string = String(validating: bytes, as: UTF8.self) else { return nil }
        var result: [UInt8] = []
        for unit in string.utf16 {
            appendJSONEscaped(unit, escapingSlash: false, to: &result)
        }
        return result
    }

    private static func appendJSONEscaped(_ unit: UInt16, escapingSlash: Bool, to result: inout [UInt8]) {
        let backslash = UInt8(ascii: "\\")
        switch unit {
        case 0x22: result += [backslash, UInt8(ascii: "\"")]
        case 0x5C: result += [backslash, backslash]
        case 0x2F where escapingSlash: result += [backslash, UInt8(ascii: "/")]
        case 0x08: result += [backslash, UInt8(ascii: "b")]
        case 0x0C: result += [backslash, UInt8(ascii: "f")]
        case 0x0A: result += [backslash, UInt8(ascii: "n")]
        case 0x0D: result += [backslash, UInt8(ascii: "r")]
        case 0x09: result += [backslash, UInt8(ascii: "t")]
        case 0x00..<0x20, 0x80...:
            // Control characters, and non-ASCII UTF-16 units (jsonEscaped passes those bytes through).
            result += [backslash, UInt8(ascii: "u")]
            for shift in stride(from: 12, through: 0, by: -4) {
                result.append(hexLower[Int((unit >> UInt16(shift)) & 0xF)])
            }
        default: result.append(UInt8(truncatingIfNeeded: unit))
        }
    }

    static func hex(_ bytes: [UInt8], digits: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            result += [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
        }
        return result
    }
}
