/// The compiled set of secrets to mask; immutable, shared by every stream of a job.
///
/// Secrets shorter than `minimumSecretLength` or containing a line break (`\n` or `\r`) are
/// ignored: a short value turns the log into an oracle ("is X the secret?") and a
/// multi-line value cannot be matched by a line-oriented reader. The API layer refuses to
/// accept such masked variables, as GitLab does, so ignoring them here is only a safety net.
public final class SecretMaskingRules: Sendable {
    /// Prefixes of the tokens Latchkey mints; a run of token characters after one is masked.
    public static let tokenPrefixes = ["glcbt-", "glpat-", "glrt-"]

    /// Encoded variants shorter than this are dropped: they would mask innocent text.
    static let minimumVariantLength = 8

    /// Every byte string that is replaced whole: the secrets and their encoded variants.
    let patterns: [[UInt8]]
    /// Token prefixes after which a run of token characters is replaced, the prefix kept.
    let prefixes: [[UInt8]]
    /// The compiled automaton over `patterns` and `prefixes`.
    let automaton: MaskingAutomaton

    /// Compiles `secrets` (and their encoded variants) and the token `prefixes` into one automaton.
    public init(secrets: [String], prefixes: [String] = SecretMaskingRules.tokenPrefixes, minimumSecretLength: Int = 8) {
        var seen = Set<[UInt8]>()
        var patterns: [[UInt8]] = []
        func add(_ pattern: [UInt8], minimumLength: Int) {
            guard pattern.count >= minimumLength, seen.insert(pattern).inserted else { return }
            patterns.append(pattern)
        }
        let prefixBytes = Array(Set(prefixes.map { Array($0.utf8) }.filter { !$0.isEmpty })).sorted { $0.lexicographicallyPrecedes($1) }
        for secret in secrets {
            let bytes = Array(secret.utf8)
            guard bytes.count >= max(minimumSecretLength, 1), !bytes.contains(0x0A), !bytes.contains(0x0D) else { continue }
            add(bytes, minimumLength: 1)
            let isToken = prefixBytes.contains { bytes.starts(with: $0) }
            for variant in Self.encodedVariants(of: bytes, isToken: isToken) {
                add(variant, minimumLength: Self.minimumVariantLength)
            }
        }
        self.patterns = patterns
        self.prefixes = prefixBytes
        self.automaton = MaskingAutomaton(patterns: patterns, prefixes: prefixBytes)
    }

    /// The number of byte strings (secrets and encoded variants) that are masked.
    public var patternCount: Int { patterns.count }

    /// The automaton's state count, a measure of its memory use.
    public var stateCount: Int { automaton.stateCount }

    /// The size of the automaton's transition table in bytes.
    public var tableByteCount: Int { automaton.table.count * MemoryLayout<UInt32>.stride }
}
