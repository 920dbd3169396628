import GraphQL

#if !LATCHKEY_FUZZ
@testable import LatchkeyServer
#endif

/// What the GraphQL fuzz target does with one input, in `GraphQLController`'s order: the byte pre-scan, the library's
/// parser, then depth and complexity, for anonymous and authenticated limits.
///
/// Compiled into `Fuzz/Sources/FuzzGraphQL` beside a link to the server's `GraphQLLimits.swift` (`LATCHKEY_FUZZ`), and into
/// `LatchkeyServerTests` (through a link), which replays the corpus against the server's own type.
enum GraphQLHarness {
    static func document(_ bytes: [UInt8]) -> [String] {
        let query = String(decoding: bytes, as: UTF8.self)
        var problems: [String] = []
        for limits in [GraphQLLimits.anonymous, .authenticated] {
            do {
                try limits.checkBeforeParsing(query)
                let document = try GraphQL.parse(source: Source(body: query, name: "GraphQL request"))
                try limits.check(document, operationName: nil)
                // What reached the parser was within the pre-scan's bound on nesting.
                if GraphQLLimits.scan(query).nesting > GraphQLLimits.maxNesting { problems.append("a document nested beyond the limit passed") }
            } catch {
                continue
            }
        }
        return problems
    }
}
