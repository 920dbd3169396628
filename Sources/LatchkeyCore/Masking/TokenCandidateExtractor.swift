/// Finds, in one stream of (decoded) bytes, every run of token characters that starts with a token prefix: the strings worth a
/// digest lookup. Work is constant per byte; memory is bounded by twice the longest token.
///
/// A candidate is a prefix and the token characters (`A–Z a–z 0–9 - _ .`) after it up to the first other byte, exactly as
/// presented — never an arbitrary piece of it, so a lookup only ever answers for a whole string the sender wrote. The variants
/// added end where the sender wrote a dot, since a sentence may end right after a token and a file name may follow one with its
/// extension (`glpat-….txt`): the string before a dot is whole as written.
struct TokenCandidateExtractor {
    /// The prefixes; none has a proper prefix that is also its suffix (so a mismatch restarts at the first byte, see `init`).
    let prefixes: [[UInt8]]
    let maximumLength: Int
    let minimumBodyLength: Int
    /// Per prefix: how many of its bytes the stream ends with.
    private var progress: [Int]
    /// The current run of token characters from its earliest candidate start, trimmed from the front past `maximumLength`.
    private var run: [UInt8] = []
    /// Where candidates begin in `run`.
    private var starts: [Int] = []
    /// The most candidate starts kept in one run (the oldest are dropped): a run of repeated prefixes cannot make more work.
    static let maximumStartsPerRun = 8
    /// The most dots a candidate is also cut at.
    static let maximumDotCuts = 4

    init(prefixes: [[UInt8]], maximumLength: Int, minimumBodyLength: Int) {
        for prefix in prefixes {
            precondition(!prefix.isEmpty && prefix.allSatisfy(Self.isTokenByte), "a prefix is made of token characters")
            precondition((1..<prefix.count).allSatisfy { prefix[..<$0] != prefix[(prefix.count - $0)...] }, "a prefix has no border")
        }
        self.prefixes = prefixes
        self.maximumLength = maximumLength
        self.minimumBodyLength = minimumBodyLength
        progress = Array(repeating: 0, count: prefixes.count)
    }

    /// The characters of every token Latchkey mints or accepts (base64url, and `.` between a JWT's segments).
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"),
            UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default: false
        }
    }

    mutating func feed(_ byte: UInt8, into sink: inout TokenCandidateSink) {
        guard Self.isTokenByte(byte) else {
            boundary(into: &sink)
            return
        }
        if !starts.isEmpty {
            run.append(byte)
            if run.count > 2 * maximumLength {
                // Amortised O(1): a candidate longer than the limit is no token, so its start and bytes can go.
                let drop = run.count - maximumLength
                run.removeFirst(drop)
                starts = starts.compactMap { $0 >= drop ? $0 - drop : nil }
            }
        }
        for index in prefixes.indices {
            let prefix = prefixes[index]
            // No prefix has a border, so after a mismatch only the byte itself can begin a new match.
            progress[index] = prefix[progress[index]] == byte ? progress[index] + 1 : (prefix[0] == byte ? 1 : 0)
            guard progress[index] == prefix.count else { continue }
            progress[index] = 0
            if starts.isEmpty {
                run = prefix
                starts = [0]
            } else {
                if starts.count == Self.maximumStartsPerRun { starts.removeFirst() }
                starts.append(run.count - prefix.count)
            }
        }
    }

    /// The end of a run (a byte that is no token character, or the end of a document): its candidates go to `sink`.
    mutating func boundary(into sink: inout TokenCandidateSink) {
        for index in progress.indices { progress[index] = 0 }
        guard !starts.isEmpty else { return }
        for start in starts where run.count - start <= maximumLength {
            let candidate = run[start...]
            offer(candidate, into: &sink)
            // Up to each of the first few dots: a JWT has two, so its end is among them whatever follows it.
            var cuts = 0
            for index in candidate.indices where candidate[index] == UInt8(ascii: ".") && index > start {
                offer(candidate[..<index], into: &sink)
                cuts += 1
                if cuts == Self.maximumDotCuts { break }
            }
        }
        run.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
    }

    private func offer(_ candidate: ArraySlice<UInt8>, into sink: inout TokenCandidateSink) {
        guard let prefix = prefixes.first(where: { candidate.starts(with: $0) }), candidate.count - prefix.count >= minimumBodyLength else { return }
        sink.insert(String(decoding: candidate, as: UTF8.self))
    }
}

/// The distinct candidates found so far, at most `limit` of them.
struct TokenCandidateSink {
    let limit: Int
    private(set) var candidates: [String] = []
    private var seen: Set<String> = []
    /// Whether a candidate was left out because `limit` were already kept.
    private(set) var overflowed = false

    init(limit: Int) { self.limit = limit }

    mutating func insert(_ candidate: String) {
        guard !seen.contains(candidate) else { return }
        guard candidates.count < limit else {
            overflowed = true
            return
        }
        seen.insert(candidate)
        candidates.append(candidate)
    }
}
