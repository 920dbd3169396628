extension SecretMaskingRules {
    static let base64Standard = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let base64URLSafe = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    static let hexLower = Array("0123456789abcdef".utf8)
    static let hexUpper = Array("0123456789ABCDEF".utf8)

    static let base32 = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// An encoded form of a secret, and the rest of the encoded group that may follow it: that many characters, `=` allowed if `padding` is 1.
    ///
    /// `head` is how many encoded characters right before it may still hold bits of the secret (a mixed character
    /// at the start of an aligned core, two for double base64); they are masked with it.
    struct Variant {
        var bytes: [UInt8]
        var tail: (characters: UInt8, padding: UInt8) = (0, 0)
        var head: UInt8 = 0

        init(_ bytes: [UInt8], tail: (characters: UInt8, padding: UInt8) = (0, 0), head: UInt8 = 0) {
            self.bytes = bytes
            self.tail = tail
            self.head = head
        }
    }

    /// The most characters any variant's head covers.
    static let maximumHead = 2

    /// The encodings under which a secret commonly ends up in a log; duplicates and short ones are filtered by the caller.
    ///
    /// Line-wrapped forms (`base64` at 76 columns, `openssl base64` at 64, `xxd -p`) need no variant of their own:
    /// line breaks are transparent to matching. Neither does UTF-16 of ASCII text: its NUL bytes are transparent too.
    static func encodedVariants(of secret: [UInt8]) -> [Variant] {
        var variants: [Variant] = []
        variants += encodedCores(of: secret, alphabet: base64Standard, bitsPerCharacter: 6)
        variants += encodedCores(of: secret, alphabet: base64URLSafe, bitsPerCharacter: 6)
        variants += encodedCores(of: secret, alphabet: base32, bitsPerCharacter: 5)
        // Each common URL encoder leaves a different set of characters alone; for a secret of letters, digits and `-_.`
        // they all give the secret itself (and the caller drops the duplicates).
        for encoder in PercentEncoder.common {
            variants.append(Variant(percentEncoded(secret, keeping: encoder.keeps, hexDigits: hexUpper, spaceAsPlus: encoder.spaceAsPlus)))
        }
        variants.append(Variant(percentEncoded(secret, keeping: PercentEncoder.unreserved, hexDigits: hexLower, spaceAsPlus: false)))
        // Every byte escaped (`%67%6C…`): what a hand-rolled encoder or `xxd -p | sed 's/../%&/g'` writes, and the obvious
        // way to slip a value past a masker that only knows the encoders.
        variants.append(Variant(secret.flatMap { [UInt8(ascii: "%"), hexUpper[Int($0 >> 4)], hexUpper[Int($0 & 0x0F)]] }))
        variants.append(Variant(secret.flatMap { [UInt8(ascii: "%"), hexLower[Int($0 >> 4)], hexLower[Int($0 & 0x0F)]] }))
        variants.append(Variant(jsonEscaped(secret, escapingSlash: false)))
        // Foundation's JSONEncoder (and PHP's json_encode) write `/` as `\/`.
        variants.append(Variant(jsonEscaped(secret, escapingSlash: true)))
        if let asciiOnly = jsonEscapedASCII(secret) {
            // Python's json.dumps escapes every non-ASCII character as \uXXXX by default.
            variants.append(Variant(asciiOnly))
        }
        variants.append(Variant(hex(secret, digits: hexLower)))
        variants.append(Variant(hex(secret, digits: hexUpper)))
        if let string = String(validating: secret, as: UTF8.self) {
            // UTF-16 as matching sees it: without the bytes a terminal does not show (for ASCII, that is the secret itself).
            let units = Array(string.utf16)
            let littleEndian = units.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
            let bigEndian = units.flatMap { [UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0)] }
            variants.append(Variant(TerminalSequenceParser.visibleBytes(of: littleEndian)))
            variants.append(Variant(TerminalSequenceParser.visibleBytes(of: bigEndian)))
        }
        // A compromised job printing `secrets | base64 | base64` (tj-actions, 2025) must not leak any masked value;
        // the inner encoding may sit at any alignment in a larger blob.
        // The inner encoding's mixed first and last characters hold bits of the secret too; the outer characters that
        // encode them (two before the outer core, up to three after it) are the outer variant's head and tail.
        for inner in encodedCores(of: secret, alphabet: base64Standard, bitsPerCharacter: 6) where !inner.bytes.isEmpty {
            for outer in encodedCores(of: inner.bytes, alphabet: base64Standard, bitsPerCharacter: 6, mixedAfter: inner.tail.characters > 0) {
                var outer = outer
                if inner.head > 0 { outer.head = 2 }
                variants.append(outer)
            }
        }
        return variants
    }

    /// The base64 characters of `bytes` that do not depend on surrounding data, for each of the three byte alignments.
    static func base64Cores(of bytes: [UInt8], alphabet: [UInt8]) -> [[UInt8]] {
        encodedCores(of: bytes, alphabet: alphabet, bitsPerCharacter: 6).map(\.bytes)
    }

    /// The characters of `bytes` in base64 (6 bits a character) or base32 (5) that do not depend on surrounding data, at every byte alignment.
    ///
    /// Embedded at offset k in a larger stream, the bytes occupy bits [8k, 8(k+n)) of the
    /// encoded group sequence, and output character c encodes bits [bc, bc+b). That character is
    /// fully determined by the secret iff 8k <= bc and bc+b <= 8(k+n). So the first determined
    /// character is ceil(8k/b) (for base64: 0, 2, 3 for k = 0, 1, 2: with one leading byte the second
    /// character still holds two of its bits) and the last one is floor(8(k+n)/b) - 1 (the
    /// trailing partial character mixes in the next byte or the zero padding, and `=` padding is
    /// dropped). Encoding k zero bytes followed by the secret and keeping that window gives the core.
    /// The characters left in the core's last group (a group is 24 bits in base64, 40 in base32) still hold
    /// bits of the secret, so they — or the `=` padding that replaces them — are the variant's tail, masked with it.
    /// A mixed first character (when 8k is no multiple of b) is the variant's head. With `mixedAfter`, the byte after
    /// `bytes` holds bits of the secret as well (it is an inner encoding's mixed character), so the tail reaches to the
    /// last character holding any of its bits.
    static func encodedCores(of bytes: [UInt8], alphabet: [UInt8], bitsPerCharacter bits: Int, mixedAfter: Bool = false) -> [Variant] {
        let alignments = bits == 6 ? 3 : 5
        let groupCharacters = bits == 6 ? 4 : 8
        return (0..<alignments).map { offset in
            let padded = [UInt8](repeating: 0, count: offset) + bytes
            let bitCount = 8 * padded.count
            let first = (8 * offset + bits - 1) / bits
            let end = bitCount / bits
            guard end > first else { return Variant([]) }
            var core: [UInt8] = []
            core.reserveCapacity(end - first)
            for character in first..<end {
                let bit = bits * character
                let byteIndex = bit / 8
                // Read 16 bits starting at byteIndex so the window is always inside.
                let high = UInt16(padded[byteIndex]) << 8
                let low = byteIndex + 1 < padded.count ? UInt16(padded[byteIndex + 1]) : 0
                let value = Int(((high | low) >> (16 - bits - (bit % 8))) & UInt16((1 << bits) - 1))
                core.append(alphabet[value])
            }
            var rest = (groupCharacters - end % groupCharacters) % groupCharacters
            if mixedAfter { rest = max(rest, (bitCount + 7) / bits - end + 1) }
            return Variant(core, tail: (UInt8(rest), rest > 0 ? 1 : 0), head: (8 * offset) % bits != 0 ? 1 : 0)
        }
    }

    /// A URL encoder as common tools write it: the ASCII characters it leaves as they are besides letters and digits, and
    /// whether it writes a space as `+`.
    struct PercentEncoder {
        var keeps: Set<UInt8>
        var spaceAsPlus: Bool

        /// RFC 3986's unreserved punctuation.
        static let unreserved = Set("-._~".utf8)

        /// curl `--data-urlencode`, jq `@uri`, Python's `quote(safe='')`, PHP's `rawurlencode`, Go's `QueryEscape` and
        /// Python's `quote_plus` (space as `+`), JavaScript's `encodeURIComponent` and `encodeURI`, the WHATWG form encoding
        /// (`URLSearchParams`, Java's `URLEncoder`), PHP's `urlencode`, Python's `quote` (keeps `/`), Go's `PathEscape`.
        static let common: [PercentEncoder] = [
            PercentEncoder(keeps: unreserved, spaceAsPlus: false),
            PercentEncoder(keeps: unreserved, spaceAsPlus: true),
            PercentEncoder(keeps: unreserved.union("!*'()".utf8), spaceAsPlus: false),
            PercentEncoder(keeps: unreserved.union("!*'();,/?:@&=+$#".utf8), spaceAsPlus: false),
            PercentEncoder(keeps: Set("*-._".utf8), spaceAsPlus: true),
            PercentEncoder(keeps: Set("-._".utf8), spaceAsPlus: true),
            PercentEncoder(keeps: unreserved.union("/".utf8), spaceAsPlus: false),
            PercentEncoder(keeps: unreserved.union("$&+:=@".utf8), spaceAsPlus: false),
        ]
    }

    /// Percent-encoding of every byte but ASCII letters, digits and `keeping`, a space as `+` if `spaceAsPlus`.
    static func percentEncoded(_ bytes: [UInt8], keeping: Set<UInt8>, hexDigits: [UInt8], spaceAsPlus: Bool) -> [UInt8] {
        var result: [UInt8] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                result.append(byte)
            case 0x20 where spaceAsPlus:
                result.append(UInt8(ascii: "+"))
            case _ where keeping.contains(byte):
                result.append(byte)
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
