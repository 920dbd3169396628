/// The compiled set of secrets to mask; immutable, shared by every stream of a job.
///
/// Secrets shorter than `minimumSecretLength` or containing a control character (a line break, `ESC`, NUL, ...;
/// tab is allowed) are ignored: a short value turns the log into an oracle ("is X the secret?"), and control
/// characters are transparent to matching (see `TerminalSequenceParser`), so such a value could never be found. The API layer refuses to
/// accept such masked variables, as GitLab does, so ignoring them here is only a safety net.
public final class SecretMaskingRules: Sendable {
    /// Prefixes of the tokens Latchkey mints; a run of token characters after one is masked.
    public static let tokenPrefixes = ["glcbt-", "glpat-", "glrt-"]

    /// Encoded variants shorter than this are dropped: they would mask innocent text.
    static let minimumVariantLength = 8

    /// Every byte string that is replaced whole: the secrets and their encoded variants.
    let patterns: [[UInt8]]
    /// Per pattern: how many characters of a partly covered encoded group may follow it, and (1) whether `=` padding may fill them.
    let tails: [(characters: UInt8, padding: UInt8)]
    /// Per pattern: how many encoded characters right before it are masked with it (see `Variant.head`).
    let heads: [UInt8]
    /// A hash of the patterns and prefixes, so a stored masker state is only resumed with the rules it was taken with.
    let fingerprint: UInt64
    /// Token prefixes after which a run of token characters is replaced, the prefix kept.
    let prefixes: [[UInt8]]
    /// The compiled automaton over `patterns` and `prefixes`.
    let automaton: MaskingAutomaton
    /// What lets the masker skip plain text without walking the automaton.
    let prefilter: MaskingPrefilter

    /// Compiles `secrets` (and their encoded variants) and the token `prefixes` into one automaton.
    public init(secrets: [String], prefixes: [String] = SecretMaskingRules.tokenPrefixes, minimumSecretLength: Int = 8) {
        var seen = Set<[UInt8]>()
        var patterns: [[UInt8]] = []
        var tails: [(characters: UInt8, padding: UInt8)] = []
        var heads: [UInt8] = []
        func add(_ variant: Variant, minimumLength: Int) {
            guard variant.bytes.count >= minimumLength, !variant.bytes.contains(where: TerminalSequenceParser.isControl) else { return }
            guard seen.insert(variant.bytes).inserted else {
                // The same bytes as another variant: keep the longest tail of the two.
                if let index = patterns.firstIndex(of: variant.bytes) {
                    tails[index] = (max(tails[index].characters, variant.tail.characters), max(tails[index].padding, variant.tail.padding))
                    heads[index] = max(heads[index], variant.head)
                }
                return
            }
            patterns.append(variant.bytes)
            tails.append(variant.tail)
            heads.append(variant.head)
        }
        let prefixBytes = Array(Set(prefixes.map { Array($0.utf8) }.filter { !$0.isEmpty })).sorted { $0.lexicographicallyPrecedes($1) }
        for secret in secrets {
            let bytes = Array(secret.utf8)
            guard bytes.count >= max(minimumSecretLength, 1), !bytes.contains(where: TerminalSequenceParser.isControl) else { continue }
            add(Variant(bytes), minimumLength: 1)
            if let segments = Self.jwtSegments(of: bytes, prefixes: prefixBytes) {
                // A JWT (a JWT job token, an ID token) is masked in units that tile it: the header with its dot (with and
                // without the prefix), the payload with its dot, and the signature, each with every encoded variant. Any
                // encoding of the token, with or without its prefix, is then a run of these units' encodings, masked as one;
                // the whole token's own variants (~60 KB of patterns) add nothing. The payload alone is a unit too, as
                // `cut -d. -f2` prints it; the header alone is masked as printed (it is public: the same for every token of a key).
                let dot = [UInt8(ascii: ".")]
                let (header, payload, signature) = (Array(segments.parts[0]), Array(segments.parts[1]), Array(segments.parts[2]))
                let prefix = Array(bytes[bytes.startIndex..<segments.body.startIndex])
                add(Variant(Array(segments.body)), minimumLength: Self.minimumVariantLength)
                add(Variant(header), minimumLength: Self.minimumVariantLength)
                var units = [header + dot, payload + dot, payload, signature]
                if !prefix.isEmpty { units.append(prefix + header + dot) }
                for unit in units {
                    add(Variant(unit), minimumLength: Self.minimumVariantLength)
                    for variant in Self.encodedVariants(of: unit) {
                        add(variant, minimumLength: Self.minimumVariantLength)
                    }
                }
                continue
            }
            for variant in Self.encodedVariants(of: bytes) {
                add(variant, minimumLength: Self.minimumVariantLength)
            }
            // A job printing `${CI_JOB_TOKEN#glcbt-}` shows the token without its prefix, which the prefix rule cannot see.
            if let prefix = prefixBytes.first(where: { bytes.starts(with: $0) }), bytes.count - prefix.count >= Self.minimumVariantLength {
                let body = Array(bytes[prefix.count...])
                add(Variant(body), minimumLength: Self.minimumVariantLength)
                for variant in Self.encodedVariants(of: body) {
                    add(variant, minimumLength: Self.minimumVariantLength)
                }
            }
        }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ byte: UInt8) {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        for (index, pattern) in patterns.enumerated() {
            for byte in pattern { mix(byte) }
            mix(0xFF)
            mix(tails[index].characters)
            mix(tails[index].padding)
            mix(heads[index])
        }
        for prefix in prefixBytes {
            for byte in prefix { mix(byte) }
            mix(0xFE)
        }
        self.patterns = patterns
        self.tails = tails
        self.heads = heads
        self.prefixes = prefixBytes
        self.fingerprint = hash
        self.prefilter = MaskingPrefilter(patterns: patterns, heads: heads, prefixes: prefixBytes)
        self.automaton = MaskingAutomaton(patterns: patterns, tails: tails, heads: heads, prefixes: prefixBytes, stopBytes: TerminalSequenceParser.controlBytes)
    }

    /// The body (after a token prefix, if any) and the three segments of a secret shaped as a compact JWS, when each segment is
    /// base64url of at least `minimumVariantLength` characters and the header segment encodes a JSON object (`eyJ` is `{"`).
    static func jwtSegments(of bytes: [UInt8], prefixes: [[UInt8]]) -> (body: ArraySlice<UInt8>, parts: [ArraySlice<UInt8>])? {
        let start = prefixes.first(where: { bytes.starts(with: $0) })?.count ?? 0
        let body = bytes[start...]
        guard body.starts(with: Array("eyJ".utf8)), let parts = JobTokenShape.jwsSegments(body),
            parts.allSatisfy({ $0.count >= minimumVariantLength })
        else { return nil }
        return (body, parts)
    }

    /// The number of byte strings (secrets and encoded variants) that are masked.
    public var patternCount: Int { patterns.count }

    /// The automaton's state count, a measure of its memory use.
    public var stateCount: Int { automaton.stateCount }

    /// The size of the automaton's transition table in bytes.
    public var tableByteCount: Int { automaton.table.count * MemoryLayout<UInt32>.stride }

    /// The byte strings replaced whole (secrets and encoded variants) and the token prefixes, for benchmarks against other matchers.
    public var literals: (patterns: [[UInt8]], prefixes: [[UInt8]]) { (patterns, prefixes) }

    /// Runs the prefilter alone over `bytes`, as if the automaton took no time at its candidates, and returns how many
    /// bytes it hands to the automaton: the cost of finding candidates, for benchmarks.
    public func scanPrefilter(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard prefilter.isEnabled else { return bytes.count }
        var index = 0
        var handed = 0
        while index < bytes.count {
            let (restart, until) = prefilter.scan(bytes, from: index)
            let next = max(until, restart + 1)
            handed += min(next, bytes.count) - min(restart, bytes.count)
            index = next
        }
        return handed
    }

    /// Walks the automaton over `bytes` without masking and counts the special states reached: the floor under `SecretMasker`'s cost.
    public func scanSpecialStates(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let automaton = automaton
        let firstSpecial = automaton.firstSpecialOffset
        return automaton.table.withUnsafeBufferPointer { table in
            automaton.byteClass.withUnsafeBufferPointer { byteClass in
                var state: UInt32 = 0
                var specials = 0
                for byte in bytes {
                    state = table[Int(state) &+ Int(byteClass[Int(byte)])]
                    if state >= firstSpecial {
                        specials += 1
                        if state == automaton.stopOffset { state = 0 }
                    }
                }
                return specials
            }
        }
    }
}
