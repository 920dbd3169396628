import Testing

@testable import LatchkeyCore

@Suite("Odd and malformed documents never crash the parser")
struct CIConfigFuzzTests {
    static let oddDocuments: [String] = [
        "", " ", "\n\n", "---", "--- \n...", "---\na: 1\n---\nb: 2", "%YAML 1.2\n---\nj: {script: x}",
        "{", "}", "[", "]", "{a: [}", "a: 'unterminated", "a: \"unterminated", "a: |\n  block\n b: x",
        ":", "::", "- - -", "? a\n: b", "? [a, b]\n: c", "? {a: b}\n: c", "&a a: *a", "a: &x\nb: *x",
        "a: *undefined", "<<: 5", "<<: [1, 2]", "j: {<<: {script: x}}", "j:\n  <<: *nothing",
        "j: {script: x}\nj2: {script: x, needs: [j, {job: j}]}", "1: {script: x}", "true: {script: x}",
        "null: {script: x}", "~: {script: x}", "'': {script: x}", "j: {script: x, variables: {1: 2}}",
        "j: {script: x, variables: {A: 1.5}}", "j: {script: x, variables: {A: null}}", "j: {script: x, variables: {A: {}}}",
        "j: {script: x, artifacts: {}}", "j: {script: x, artifacts: null}", "j: {script: x, needs: {job: a}}",
        "j: {script: x, needs: [[a, [b]]]}", "j: {script: x, needs: [{}]}", "j: {script: x, needs: [{job: [a]}]}",
        "j: {script: x, extends: []}", "j: {script: x, extends: [1, 2]}", "j: {extends: j}",
        "j: {script: [[[[[[[[[[[[x]]]]]]]]]]]}", "j: {script: x, timeout: ''}", "j: {script: x, timeout: '0'}",
        "j: {script: x, timeout: '1:2:3:4:5:6:7:8'}", "j: {script: x, timeout: '99999999999999999999 years'}",
        "j: {script: x, retry: {max: 9}}", "j: {script: x, image: {}}", "j: {script: x, tags: [1]}",
        "j: {script: x, when: null, allow_failure: null, stage: null}", "!!map {j: {script: x}}",
        "j: !!str {script: x}", "j: !custom {script: x}", "j: {script: !!binary aGVsbG8=}",
        "j: {script: x}\n\u{0}", "j: {script: \"\\u0000\"}", "\u{FEFF}j: {script: x}", "j:\r\n  script: x\r\n",
        "j: {script: 0x1F}", "j: {script: 99999999999999999999999}", "j: {script: .inf}", "j: {script: 12:30:00}",
        "stages: [[a]]\nj: {script: x}", "stages: []\nj: {script: x, stage: .pre}", "default: null\nj: {script: x}",
        "variables: null\nj: {script: x}", "j: {script: x, dependencies: []}", "j: {script: x, dependencies: null}",
        String(repeating: "a: ", count: 500), String(repeating: "{", count: 300), String(repeating: "- ", count: 300),
        String(repeating: "j\(0): {script: x}\n", count: 3), "\t", "a:\tb", "\u{7}",
    ]

    @Test("each odd document gives a definition or a CIConfigError", arguments: oddDocuments.indices)
    func oddDocument(_ index: Int) {
        assertParsesOrRefuses(Self.oddDocuments[index])
    }

    @Test("random bytes give a definition or a CIConfigError")
    func randomBytes() {
        var generator = CIFuzzGenerator(seed: 0x1a7c_4be7)
        let alphabet = Array("abc:-[]{}&*!|>'\"#%@`,?<\n \t0123456789.".utf8)
        for round in 0..<400 {
            let length = Int(generator.next() % 200)
            let bytes: [UInt8] = (0..<length).map { _ in
                round.isMultiple(of: 2) ? UInt8(truncatingIfNeeded: generator.next()) : alphabet[Int(generator.next() % UInt64(alphabet.count))]
            }
            assertParsesOrRefuses(String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test("mutations of a valid file give a definition or a CIConfigError")
    func mutatedValidFile() {
        let valid = Array(
            """
            stages: [build, test]
            variables: {A: "1"}
            .base: &base {stage: build, tags: [x]}
            build: {<<: *base, script: [make], artifacts: {paths: [out/], expire_in: 1 week}}
            test: {stage: test, script: make test, needs: [build], extends: .base}
            """.utf8
        )
        var generator = CIFuzzGenerator(seed: 7)
        for _ in 0..<400 {
            var bytes = valid
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let position = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 3 {
                case 0: bytes.remove(at: position)
                case 1: bytes.insert(UInt8(truncatingIfNeeded: generator.next() % 128), at: position)
                default: bytes[position] = UInt8(truncatingIfNeeded: generator.next() % 128)
                }
            }
            assertParsesOrRefuses(String(decoding: bytes, as: UTF8.self))
        }
    }

    private func assertParsesOrRefuses(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let definition = try CIConfigParser.parse(yaml)
            #expect(!definition.jobs.isEmpty, "a definition always has jobs", sourceLocation: sourceLocation)
        } catch {
            #expect(!error.messages.isEmpty, "an error always says why", sourceLocation: sourceLocation)
        }
    }
}

/// A tiny deterministic generator, so that a failing input can be reproduced.
struct CIFuzzGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
