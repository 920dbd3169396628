import GraphQL

/// GitLab's limits on a GraphQL document: depth 15 anonymous and 20 authenticated, complexity 200 and 250.
///
/// Checked in two steps, because the GraphQL library's parser recurses once per nesting level: a byte pre-scan of
/// the query refuses absurd nesting before anything parses it, then the parsed document's depth and complexity are
/// measured (fragments expanded) before it is validated or executed.
struct GraphQLLimits: Sendable, Equatable {
    /// Deepest field nesting, counted as graphql-ruby counts it (fragments add no level, their fields do).
    var maxDepth: Int
    /// Most fields in the executed operation, fragments expanded (graphql-ruby's default complexity of 1 per field).
    var maxComplexity: Int

    static let anonymous = GraphQLLimits(maxDepth: 15, maxComplexity: 200)
    static let authenticated = GraphQLLimits(maxDepth: 20, maxComplexity: 250)

    /// Deepest nesting of `{`, `(` and `[` of any kind that reaches the parser.
    static let maxNesting = 64
    /// Most fields written in the whole document, all operations and fragments (validation is quadratic in them).
    static let maxDocumentFields = 1000
    /// Deepest chain of fragment spreads.
    static let maxFragmentChain = 32

    /// A document over a limit; `message` is what GitLab answers in `errors`.
    enum Violation: Error, Equatable {
        case depth(Int, max: Int)
        case nesting(Int, max: Int)
        case complexity(Int, max: Int)
        case documentFields(Int, max: Int)
        case fragmentChain(max: Int)
        case truncatedEscape

        var message: String {
            switch self {
            case .depth(let depth, let max): "Query has depth of \(depth), which exceeds max depth of \(max)"
            case .nesting(let nesting, let max): "Query has nesting of \(nesting), which exceeds max nesting of \(max)"
            case .complexity(let complexity, let max): "Query has complexity of \(complexity), which exceeds max complexity of \(max)"
            case .documentFields(let count, let max): "Query has \(count) fields, which exceeds the limit of \(max)"
            case .fragmentChain(let max): "Query spreads fragments more than \(max) deep"
            case .truncatedEscape: "Syntax Error: Invalid character escape sequence at the end of the document."
            }
        }
    }

    /// What the pre-scan found.
    struct Scan: Equatable {
        /// Deepest nesting of `{` outside arguments: the selection depth, counting inline fragments as levels.
        var selectionDepth = 0
        /// Deepest nesting of brackets of any kind.
        var nesting = 0
    }

    /// Measures bracket nesting in `query` without parsing it, skipping strings, block strings and comments.
    static func scan(_ query: String) -> Scan {
        var result = Scan()
        var nesting = 0
        var braces = 0
        var arguments = 0
        let bytes = Array(query.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "#"):
                while index < bytes.count, bytes[index] != 10, bytes[index] != 13 { index += 1 }
            case UInt8(ascii: "\""):
                if index + 2 < bytes.count, bytes[index + 1] == byte, bytes[index + 2] == byte {
                    // A block string ends at the next `"""` not escaped as `\"""`.
                    index += 3
                    while index < bytes.count {
                        if bytes[index] == UInt8(ascii: "\\"), index + 3 < bytes.count, bytes[index + 1] == byte, bytes[index + 2] == byte, bytes[index + 3] == byte {
                            index += 4
                            continue
                        }
                        if bytes[index] == byte, index + 2 < bytes.count, bytes[index + 1] == byte, bytes[index + 2] == byte {
                            index += 2
                            break
                        }
                        index += 1
                    }
                } else {
                    index += 1
                    while index < bytes.count, bytes[index] != byte, bytes[index] != 10, bytes[index] != 13 {
                        if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                        index += 1
                    }
                }
            case UInt8(ascii: "{"), UInt8(ascii: "("), UInt8(ascii: "["):
                nesting += 1
                result.nesting = max(result.nesting, nesting)
                if byte == UInt8(ascii: "(") { arguments += 1 }
                if byte == UInt8(ascii: "{"), arguments == 0 {
                    braces += 1
                    result.selectionDepth = max(result.selectionDepth, braces)
                }
            case UInt8(ascii: "}"), UInt8(ascii: ")"), UInt8(ascii: "]"):
                // Unbalanced closers belong to a document the parser refuses; the counts only need to stay bounded.
                nesting = max(0, nesting - 1)
                if byte == UInt8(ascii: ")") { arguments = max(0, arguments - 1) }
                if byte == UInt8(ascii: "}"), arguments == 0 { braces = max(0, braces - 1) }
            default:
                break
            }
            index += 1
        }
        return result
    }

    /// Whether the document ends inside an escape: a `\` as its last byte, or a `\u` with fewer than four bytes after it.
    ///
    /// The GraphQL library's lexer reads those bytes without a bounds check and traps (found by fuzzing, issue 10).
    /// Backslashes pair up in any context, as escapes do in strings, so `"\\u"` is a backslash and a `u`, not an escape.
    static func endsInsideEscape(_ query: String) -> Bool {
        let bytes = Array(query.utf8)
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            guard index + 1 < bytes.count else { return true }
            if bytes[index + 1] == UInt8(ascii: "u"), bytes.count - (index + 2) < 4 { return true }
            index += 2
        }
        return false
    }

    /// Refuses a query the parser should not see: one it would trap on, or nesting it would recurse into too deeply.
    func checkBeforeParsing(_ query: String) throws(Violation) {
        if Self.endsInsideEscape(query) { throw .truncatedEscape }
        let scan = Self.scan(query)
        guard scan.nesting > Self.maxNesting else { return }
        if scan.selectionDepth > maxDepth { throw .depth(scan.selectionDepth, max: maxDepth) }
        throw .nesting(scan.nesting, max: Self.maxNesting)
    }

    /// Measures the parsed document; `operationName` picks the operation that will run, as execution does.
    func check(_ document: Document, operationName: String?) throws(Violation) {
        var fragments: [String: FragmentDefinition] = [:]
        var written = 0
        for definition in document.definitions {
            if let fragment = definition as? FragmentDefinition {
                fragments[fragment.name.value] = fragment
                written += Self.writtenFields(fragment.selectionSet)
            } else if let operation = definition as? OperationDefinition {
                written += Self.writtenFields(operation.selectionSet)
            }
        }
        if written > Self.maxDocumentFields { throw .documentFields(written, max: Self.maxDocumentFields) }
        let operations = document.definitions.compactMap { $0 as? OperationDefinition }
        guard let operation = operations.first(where: { $0.name?.value == operationName }) ?? operations.first else { return }
        var measure = Measure(fragments: fragments, cap: max(maxDepth, maxComplexity) + 1)
        let (depth, complexity) = try measure.selectionSet(operation.selectionSet, chain: 0)
        if depth > maxDepth { throw .depth(depth, max: maxDepth) }
        if complexity > maxComplexity { throw .complexity(complexity, max: maxComplexity) }
    }

    /// Fields as written, without expanding fragments.
    private static func writtenFields(_ set: SelectionSet) -> Int {
        var count = 0
        for selection in set.selections {
            if let field = selection as? Field {
                count += 1 + (field.selectionSet.map(writtenFields) ?? 0)
            } else if let inline = selection as? InlineFragment {
                count += writtenFields(inline.selectionSet)
            }
        }
        return count
    }

    /// Depth and complexity with fragments expanded, memoised per fragment so a fragment used twice in every fragment
    /// (exponential when expanded) costs linear work; both saturate at `cap`, so no sum overflows.
    private struct Measure {
        let fragments: [String: FragmentDefinition]
        let cap: Int
        var memo: [String: (depth: Int, complexity: Int)] = [:]
        var visiting: Set<String> = []

        mutating func selectionSet(_ set: SelectionSet, chain: Int) throws(Violation) -> (depth: Int, complexity: Int) {
            var depth = 0
            var complexity = 0
            for selection in set.selections {
                var child = (depth: 0, complexity: 0)
                if let field = selection as? Field {
                    let inner = try field.selectionSet.map { set throws(Violation) in try selectionSet(set, chain: chain) } ?? (depth: 0, complexity: 0)
                    child = (inner.depth + 1, inner.complexity + 1)
                } else if let inline = selection as? InlineFragment {
                    child = try selectionSet(inline.selectionSet, chain: chain)
                } else if let spread = selection as? FragmentSpread {
                    child = try fragment(spread.name.value, chain: chain + 1)
                }
                depth = min(cap, max(depth, child.depth))
                complexity = min(cap, complexity + child.complexity)
            }
            return (depth, complexity)
        }

        mutating func fragment(_ name: String, chain: Int) throws(Violation) -> (depth: Int, complexity: Int) {
            if let known = memo[name] { return known }
            guard chain <= GraphQLLimits.maxFragmentChain else { throw .fragmentChain(max: GraphQLLimits.maxFragmentChain) }
            // An unknown or cyclic fragment is a validation error the library reports; it adds nothing here.
            guard let definition = fragments[name], visiting.insert(name).inserted else { return (0, 0) }
            defer { visiting.remove(name) }
            let measured = try selectionSet(definition.selectionSet, chain: chain)
            memo[name] = measured
            return measured
        }
    }
}
