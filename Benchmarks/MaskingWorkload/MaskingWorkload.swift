/// A deterministic job log with secrets planted in it, shared by the masking benchmarks.
public struct MaskingWorkload: Sendable {
    /// The secrets to mask; the first is a token with one of our prefixes.
    public let secrets: [String]
    /// The log text.
    public let log: [UInt8]

    /// Builds `secretCount` secrets and a log of about `byteCount` bytes with a secret planted every ~256 KiB.
    public init(secretCount: Int, byteCount: Int, seed: UInt64 = 42) {
        var generator = WorkloadGenerator(seed: seed)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var secrets: [String] = []
        for index in 0..<secretCount {
            let body = String(decoding: (0..<40).map { _ in alphabet[generator.next(below: alphabet.count)] }, as: UTF8.self)
            secrets.append(index == 0 ? "glcbt-" + body : body)
        }
        let words = [
            "Compiling", "Linking", "Running", "test", "passed", "failed", "warning:", "error:", "module", "LatchkeyCore", "swift-build",
            "Downloading", "https://example.com/pkg/archive.tar.gz", "sha256:", "[INFO]", "[DEBUG]", "npm", "install", "added", "packages",
            "in", "ms", "Step", "=>", "docker", "layer", "already", "exists", "Fetching", "origin", "main", "HEAD", "is", "now", "at",
        ]
        var log: [UInt8] = []
        log.reserveCapacity(byteCount + 512)
        var line = 0
        var nextPlant = 1 << 18
        while log.count < byteCount {
            line += 1
            log += Array("2025-06-01T12:00:00.\(100_000 + line % 900_000)Z ".utf8)
            for _ in 0..<(4 + generator.next(below: 10)) {
                log += Array(words[generator.next(below: words.count)].utf8)
                log.append(0x20)
            }
            if generator.next(below: 8) == 0 {
                // Hashes and blobs look like secrets to the automaton: the worst realistic text.
                log += (0..<40).map { _ in alphabet[generator.next(below: alphabet.count)] }
            }
            if log.count >= nextPlant, !secrets.isEmpty {
                log += Array(" token=".utf8) + Array(secrets[generator.next(below: secrets.count)].utf8)
                nextPlant += 1 << 18
            }
            log.append(0x0A)
        }
        self.secrets = secrets
        self.log = log
    }
}

/// SplitMix64, so every run masks the same bytes.
struct WorkloadGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next(below bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
