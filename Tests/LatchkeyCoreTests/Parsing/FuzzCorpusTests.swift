import Foundation
import Testing

@testable import LatchkeyCore

/// The fuzzers' corpus (`Fuzz/Corpus/<target>/`, seeds, every crash found and what libFuzzer kept) replayed through the same
/// harnesses (`FuzzHarnesses.swift`, linked from `Fuzz/`) without a sanitizer build, so no crash comes back unnoticed.
@Suite("Fuzz corpus regression")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../Fuzz/Corpus").standardized

    static func inputs(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        let folder = corpus.appendingPathComponent(target)
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map { name in
            (name, Array(try Data(contentsOf: folder.appendingPathComponent(name))))
        }
    }

    @Test("every input in a target's corpus gets a value or a typed error, and breaks none of the target's invariants", arguments: FuzzHarnesses.core.keys.sorted())
    func replay(_ target: String) throws {
        let inputs = try Self.inputs(target)
        #expect(inputs.count >= 20, "the seed corpus of \(target) has \(inputs.count) inputs")
        let harness = try #require(FuzzHarnesses.core[target])
        for input in inputs {
            let problems = harness(input.bytes)
            #expect(problems.isEmpty, "\(target)/\(input.name): \(problems)")
        }
    }

    @Test("every target in Fuzz/Corpus has a harness here or in the server's replay (GraphQL)")
    func everyCorpusHasAHarness() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(folders == (Array(FuzzHarnesses.core.keys) + ["GraphQL"]).sorted())
    }

    @Test("the crash inputs of issue 10 are in the corpus and read as GitLab reads them")
    func issueTenCrashes() throws {
        #expect(throws: ContentRange.ParseError.malformed) { try ContentRange.parse("0-/") }
        #expect(CIDuration.seconds("300000000 years") == CIDuration.maximumSeconds)
        #expect(CIDuration.seconds("9300000000000000") == CIDuration.maximumSeconds)
        let nameless = try MultipartParser.events(of: Array("--b\r\n\r\nx\r\n--b--".utf8), boundary: "b")
        #expect(nameless == [.part(MultipartParser.PartHead()), .bytes(Array("x".utf8)), .partEnd])
        for (target, count) in [("ContentRange", 1), ("Multipart", 1), ("Duration", 2), ("GraphQL", 1)] {
            let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.appendingPathComponent(target).path)
            #expect(names.filter { $0.hasPrefix("issue-10-") }.count == count, "\(target)")
        }
    }

    @Test("a base-60 integer in a pipeline file is read with overflow checks: one too large for Int is a string, not a trap (found by fuzzing)")
    func sexagesimal() throws {
        #expect(YAMLLoader.sexagesimal("1:30") == 90)
        #expect(YAMLLoader.sexagesimal("-1:00:00") == -3600)
        #expect(YAMLLoader.sexagesimal("1_0:00") == 600)
        #expect(YAMLLoader.sexagesimal("1:11:1:1:1:1:1:12:1:1:1:1:1") == nil)
        #expect(throws: CIConfigError.self) { try CIConfigParser.parse("1:11:1:1:1:1:1:12:1:1:1:1:1") }
        #expect(throws: CIConfigError.self) { try CIConfigParser.parse("job:\n  script: x\n  timeout: 1:11:1:1:1:1:1:12:1:1:1:1:1\n") }
    }
}
