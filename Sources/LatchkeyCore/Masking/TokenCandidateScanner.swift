/// Finds the strings in outside input (a pushed blob, a package, a release text) that may be live tokens, in the encodings the
/// masker knows a token ends up in: as is, UTF-16, percent-encoded, JSON `\u` escapes, hex, base32, base64 (standard or URL-safe,
/// at any alignment, line wrapped) and base64 of base64. Streaming, in chunks of any size, linear in the input.
///
/// Each encoding is a view: a small decoder whose output feeds a `TokenCandidateExtractor`, which looks for the plain prefixes
/// (`glcbt-`, `glpat-`). A token found is only a candidate: it counts when its keyed digest finds a live token, and the scanner
/// never proposes a piece of what was written, so the lookup answers nothing a sender could not learn by using the string.
public struct TokenCandidateScanner: Sendable {
    /// The prefixes of the tokens a leak revokes: job tokens and personal access tokens.
    public static let leakPrefixes = [TokenKind.jobToken.prefix, TokenKind.personalAccess.prefix]
    /// The longest token considered (a JWT job token is about 900 characters).
    public static let maximumTokenLength = 4096
    /// Bodies shorter than this are no token Latchkey accepts (a chosen root token has at least 20 characters).
    public static let minimumBodyLength = 20

    private var text: TextView
    private var hex: HexView
    private var base64: Base64View
    private var base32: Base32View
    private var escapes: EscapeView
    private var sink: TokenCandidateSink

    /// A scanner that keeps at most `limit` distinct candidates.
    public init(limit: Int = 256, prefixes: [String] = TokenCandidateScanner.leakPrefixes) {
        let extractor = TokenCandidateExtractor(
            prefixes: prefixes.map { Array($0.utf8) }, maximumLength: Self.maximumTokenLength, minimumBodyLength: Self.minimumBodyLength)
        text = TextView(extractor: extractor)
        hex = HexView(extractor: extractor)
        base64 = Base64View(extractor: extractor)
        base32 = Base32View(extractor: extractor)
        escapes = EscapeView(extractor: extractor)
        sink = TokenCandidateSink(limit: limit)
    }

    /// The distinct candidates found so far, in the order found.
    public var candidates: [String] { sink.candidates }
    /// Whether more candidates were found than were kept.
    public var overflowed: Bool { sink.overflowed }

    /// Reads the next bytes of the current document.
    public mutating func scan(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            text.feed(byte, into: &sink)
            hex.feed(byte, into: &sink)
            base64.feed(byte, into: &sink)
            base32.feed(byte, into: &sink)
            escapes.feed(byte, into: &sink)
        }
    }

    /// Ends the current document (a blob, a field): no candidate spans two documents.
    public mutating func endDocument() {
        text.boundary(into: &sink)
        hex.boundary(into: &sink)
        base64.boundary(into: &sink)
        base32.boundary(into: &sink)
        escapes.boundary(into: &sink)
    }

    /// The candidates of one whole text.
    public static func candidates(in text: String, limit: Int = 256) -> [String] {
        var scanner = TokenCandidateScanner(limit: limit)
        scanner.scan(text.utf8)
        scanner.endDocument()
        return scanner.candidates
    }
}

extension TokenCandidateScanner {
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Base64 values of both alphabets at once (`+`/`-` are 62, `/`/`_` 63), 0xFF for other bytes.
    static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in SecretMaskingRules.base64Standard.enumerated() { table[Int(byte)] = UInt8(value) }
        for (value, byte) in SecretMaskingRules.base64URLSafe.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    static func isLineBreak(_ byte: UInt8) -> Bool { byte == 0x0A || byte == 0x0D }

    /// The text as written, with `%XX` decoded and NUL bytes dropped (UTF-16 of ASCII text is the text with NULs between).
    struct TextView: Sendable {
        var extractor: TokenCandidateExtractor
        /// 0: nothing pending; 1: a `%`; 2: a `%` and one hex digit (`digit`).
        private var pending = 0
        private var digit: UInt8 = 0

        init(extractor: TokenCandidateExtractor) { self.extractor = extractor }

        mutating func feed(_ byte: UInt8, into sink: inout TokenCandidateSink) {
            switch pending {
            case 1:
                if hexValue(byte) != nil {
                    digit = byte
                    pending = 2
                    return
                }
                pending = 0
                emit(UInt8(ascii: "%"), into: &sink)
            case 2:
                pending = 0
                if let low = hexValue(byte), let high = hexValue(digit) {
                    emit(high << 4 | low, into: &sink)
                    return
                }
                emit(UInt8(ascii: "%"), into: &sink)
                emit(digit, into: &sink)
            default:
                break
            }
            if byte == UInt8(ascii: "%") {
                pending = 1
            } else {
                emit(byte, into: &sink)
            }
        }

        private mutating func emit(_ byte: UInt8, into sink: inout TokenCandidateSink) {
            if byte != 0 { extractor.feed(byte, into: &sink) }
        }

        mutating func boundary(into sink: inout TokenCandidateSink) {
            pending = 0
            extractor.boundary(into: &sink)
        }
    }

    /// Runs of hex digits (either case; line breaks and spaces, as `xxd -p` and `hexdump` write them, are skipped) decoded at both
    /// digit alignments.
    struct HexView: Sendable {
        private var extractors: [TokenCandidateExtractor]
        private var count = 0
        private var previous: UInt8 = 0

        init(extractor: TokenCandidateExtractor) { extractors = [extractor, extractor] }

        mutating func feed(_ byte: UInt8, into sink: inout TokenCandidateSink) {
            guard let value = hexValue(byte) else {
                if !isLineBreak(byte) && byte != 0x20 { boundary(into: &sink) }
                return
            }
            if count > 0 { extractors[(count - 1) & 1].feed(previous << 4 | value, into: &sink) }
            previous = value
            count += 1
        }

        mutating func boundary(into sink: inout TokenCandidateSink) {
            guard count > 0 else { return }
            count = 0
            for index in extractors.indices { extractors[index].boundary(into: &sink) }
        }
    }

    /// Runs of base64 characters (`=` ends one; line breaks are skipped) decoded from each of the four character alignments,
    /// and each decoded stream read again as base64 from its start (`base64 | base64`).
    struct Base64View: Sendable {
        private var extractors: [TokenCandidateExtractor]
        private var decoders = [BitDecoder](repeating: BitDecoder(), count: 4)
        private var inner = [BitDecoder](repeating: BitDecoder(), count: 4)
        private var innerExtractors: [TokenCandidateExtractor]
        private var count = 0

        /// A 6-bit-to-byte accumulator.
        struct BitDecoder: Sendable {
            var bits: UInt32 = 0
            var held = 0

            mutating func add(_ value: UInt8) -> UInt8? {
                bits = (bits << 6 | UInt32(value)) & 0xFFFF
                held += 6
                guard held >= 8 else { return nil }
                held -= 8
                return UInt8(truncatingIfNeeded: bits >> UInt32(held))
            }
        }

        init(extractor: TokenCandidateExtractor) {
            extractors = Array(repeating: extractor, count: 4)
            innerExtractors = Array(repeating: extractor, count: 4)
        }

        mutating func feed(_ byte: UInt8, into sink: inout TokenCandidateSink) {
            let value = base64Values[Int(byte)]
            guard value != 0xFF else {
                if !isLineBreak(byte) { boundary(into: &sink) }
                return
            }
            for phase in 0..<min(count + 1, 4) {
                guard let decoded = decoders[phase].add(value) else { continue }
                extractors[phase].feed(decoded, into: &sink)
                let innerValue = base64Values[Int(decoded)]
                if innerValue != 0xFF {
                    if let twice = inner[phase].add(innerValue) { innerExtractors[phase].feed(twice, into: &sink) }
                } else if !isLineBreak(decoded) {
                    inner[phase] = BitDecoder()
                    innerExtractors[phase].boundary(into: &sink)
                }
            }
            count += 1
        }

        mutating func boundary(into sink: inout TokenCandidateSink) {
            guard count > 0 else { return }
            count = 0
            for phase in 0..<4 {
                decoders[phase] = BitDecoder()
                inner[phase] = BitDecoder()
                extractors[phase].boundary(into: &sink)
                innerExtractors[phase].boundary(into: &sink)
            }
        }
    }

    /// Runs of base32 characters (RFC 4648, either case; `=` ends one, line breaks are skipped) decoded from each of the eight
    /// character alignments, as `base32` writes a token.
    struct Base32View: Sendable {
        private var extractors: [TokenCandidateExtractor]
        private var decoders = [BitDecoder](repeating: BitDecoder(), count: 8)
        private var count = 0

        /// A 5-bit-to-byte accumulator.
        struct BitDecoder: Sendable {
            var bits: UInt32 = 0
            var held = 0

            mutating func add(_ value: UInt8) -> UInt8? {
                bits = (bits << 5 | UInt32(value)) & 0xFFFF
                held += 5
                guard held >= 8 else { return nil }
                held -= 8
                return UInt8(truncatingIfNeeded: bits >> UInt32(held))
            }
        }

        init(extractor: TokenCandidateExtractor) { extractors = Array(repeating: extractor, count: 8) }

        static func value(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a")
            case UInt8(ascii: "2")...UInt8(ascii: "7"): byte - UInt8(ascii: "2") + 26
            default: nil
            }
        }

        mutating func feed(_ byte: UInt8, into sink: inout TokenCandidateSink) {
            guard let value = Self.value(byte) else {
                if !isLineBreak(byte) { boundary(into: &sink) }
                return
            }
            for phase in 0..<min(count + 1, 8) {
                if let decoded = decoders[phase].add(value) { extractors[phase].feed(decoded, into: &sink) }
            }
            count += 1
        }

        mutating func boundary(into sink: inout TokenCandidateSink) {
            guard count > 0 else { return }
            count = 0
            for phase in 0..<8 {
                decoders[phase] = BitDecoder()
                extractors[phase].boundary(into: &sink)
            }
        }
    }

    /// The text with JSON's and JavaScript's `\uXXXX` and `\xXX` escapes of ASCII decoded (`"\u0067lpat-…"`); other bytes as
    /// written, so a token half escaped is found too.
    struct EscapeView: Sendable {
        var extractor: TokenCandidateExtractor
        /// What an escape read so far holds: the backslash, the `u` or `x`, its hex digits.
        private var pending: [UInt8] = []

        init(extractor: TokenCandidateExtractor) { self.extractor = extractor }

        mutating func feed(_ byte: UInt8, into sink: inout TokenCandidateSink) {
            if pending.isEmpty {
                if byte == UInt8(ascii: "\\") { pending = [byte] } else { extractor.feed(byte, into: &sink) }
                return
            }
            if pending.count == 1 {
                if byte == UInt8(ascii: "u") || byte == UInt8(ascii: "x") {
                    pending.append(byte)
                    return
                }
                flush(into: &sink)
                feed(byte, into: &sink)
                return
            }
            guard hexValue(byte) != nil else {
                flush(into: &sink)
                feed(byte, into: &sink)
                return
            }
            pending.append(byte)
            let digits = pending[1] == UInt8(ascii: "u") ? 4 : 2
            guard pending.count == 2 + digits else { return }
            let value = pending[2...].reduce(0) { $0 << 4 | Int(hexValue($1)!) }
            pending = []
            // Only ASCII can be part of a token; anything else ends the run like any other byte that is not a token's.
            if value < 0x80 { extractor.feed(UInt8(value), into: &sink) } else { extractor.boundary(into: &sink) }
        }

        private mutating func flush(into sink: inout TokenCandidateSink) {
            let held = pending
            pending = []
            for byte in held { extractor.feed(byte, into: &sink) }
        }

        mutating func boundary(into sink: inout TokenCandidateSink) {
            flush(into: &sink)
            extractor.boundary(into: &sink)
        }
    }
}
