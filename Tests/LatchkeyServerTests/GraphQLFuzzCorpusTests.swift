import Foundation
import Testing

@testable import LatchkeyServer

/// The GraphQL fuzzer's corpus (`Fuzz/Corpus/GraphQL/`) replayed through its harness (`GraphQLHarness.swift`, linked from
/// `Fuzz/`) against the server's own `GraphQLLimits`, without a sanitizer build.
@Suite("GraphQL fuzz corpus regression")
struct GraphQLFuzzCorpusTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fuzz/Corpus/GraphQL").standardized

    @Test("every document in the corpus is answered (a document, a syntax error or a limit), none reaches the parser nested too deep")
    func replay() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).sorted()
        #expect(names.count >= 20)
        for name in names {
            let problems = GraphQLHarness.document(Array(try Data(contentsOf: Self.folder.appendingPathComponent(name))))
            #expect(problems.isEmpty, "\(name): \(problems)")
        }
    }

    @Test("the anonymous query nested 3,000 deep of issue 10 is refused before the parser sees it")
    func issueTen() throws {
        let query = try String(contentsOf: Self.folder.appendingPathComponent("issue-10-nested-3000"), encoding: .utf8)
        #expect(throws: GraphQLLimits.Violation.depth(3001, max: 15)) { try GraphQLLimits.anonymous.checkBeforeParsing(query) }
    }

    @Test("a document that ends inside an escape is a syntax error before the library's lexer, which traps on it, sees it (found by fuzzing)")
    func truncatedEscape() throws {
        for query in [#"{ a(s: "\u} "#, #"{ a(s: "\u12"#, #"{ a(s: "\"#, #" ").mB } } }\u} ""#] {
            #expect(throws: GraphQLLimits.Violation.truncatedEscape) { try GraphQLLimits.anonymous.checkBeforeParsing(query) }
        }
        for query in [#"{ a(s: "\\u") }"#, #"{ a(s: "\u00e9") }"#, #"{ a(s: "x") }"#] {
            #expect(throws: Never.self) { try GraphQLLimits.anonymous.checkBeforeParsing(query) }
        }
    }
}
