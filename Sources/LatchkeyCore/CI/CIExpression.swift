import Foundation

/// Why a `rules:if` / `only:variables` expression could not be read.
public enum CIExpressionError: Error, Sendable, Equatable {
    /// The text is longer than `CIExpression.maxLength`.
    case tooLong
    /// More than GitLab's `Lexer::MAX_TOKENS` tokens.
    case tooManyTokens
    /// Parentheses nested deeper than `CIExpression.maxNesting`.
    case tooDeep
    /// Text that is no lexeme (GitLab's "Unknown lexeme found!").
    case unknownLexeme(offset: Int)
    /// A `/regex/` that does not compile.
    case invalidRegularExpression
    /// A `/regex/` RE2 would not run or that could backtrack exponentially on our engine (`CIPatternSafety`).
    case unsafeRegularExpression(pattern: String, reason: String)
    /// Tokens that do not form one expression (missing operand, unbalanced parentheses, empty statement).
    case syntax
}

extension CIExpressionError {
    /// GitLab's validation message `base`, with why Latchkey refused a regular expression GitLab's RE2 might accept.
    func message(_ base: String) -> String {
        guard case .unsafeRegularExpression(let pattern, let reason) = self else { return base }
        return "\(base): regular expression \(pattern) is refused (\(reason))"
    }
}

/// A regular expression literal of GitLab's expression language: `/source/flags`.
public struct CIPattern: Sendable, Equatable {
    public var source: String
    public var flags: String

    /// Compiles the pattern; `i` ignores case and Ruby's `m` lets `.` match newlines.
    func compiled() -> NSRegularExpression? {
        var options: NSRegularExpression.Options = []
        if flags.contains("i") { options.insert(.caseInsensitive) }
        if flags.contains("m") { options.insert(.dotMatchesLineSeparators) }
        if flags.contains("x") { options.insert(.allowCommentsAndWhitespace) }
        return try? NSRegularExpression(pattern: source, options: options)
    }

    /// Whether `text` holds a match anywhere (Ruby's `scan(text).present?`), or a `CIConfigError` once `budget` is spent.
    func matches(_ text: String, budget: CIMatchBudget) throws(CIConfigError) -> Bool {
        guard let regex = compiled() else { return false }
        guard ContinuousClock.now < budget.deadline else { throw budget.exceeded(self) }
        var found = false
        var timedOut = false
        // ICU calls back about every 10,000 steps with `reportProgress`; stopping there aborts a backtracking match.
        regex.enumerateMatches(in: text, options: [.reportProgress], range: NSRange(text.startIndex..., in: text)) { match, _, stop in
            if match != nil {
                found = true
                stop.pointee = true
            } else if ContinuousClock.now >= budget.deadline {
                timedOut = true
                stop.pointee = true
            }
        }
        if timedOut && !found { throw budget.exceeded(self) }
        return found
    }

    /// Why `/…/flags` filling `text` is refused as a safe regular expression, if it is.
    static func refusal(_ text: String) -> CIExpressionError? {
        var scanner = CIExpressionLexer(text: text)
        do {
            _ = try scanner.scanPattern()
            return nil
        } catch {
            return error
        }
    }

    /// Reads `/…/flags` filling the whole of `text`, as GitLab does with a variable's value on the right of `=~`.
    static func literal(_ text: String) -> CIPattern? {
        var scanner = CIExpressionLexer(text: text)
        guard case .pattern(let pattern)? = try? scanner.scanPattern(), scanner.isAtEnd else { return nil }
        return pattern
    }
}

/// A parsed expression of GitLab's CI expression language (`rules:if`, `only:variables`).
///
/// Lexemes as GitLab's `Expression::Lexer`: `(`, `)`, `$NAME`, `"text"` / `'text'` (no escapes), `/regex/flags`,
/// `null`, `==`, `!=`, `=~`, `!~`, `&&`, `||`. Comparisons bind tighter than `&&`, which binds tighter than `||`.
public indirect enum CIExpression: Sendable, Equatable {
    case variable(String)
    case string(String)
    case pattern(CIPattern)
    case null
    case equals(CIExpression, CIExpression)
    case notEquals(CIExpression, CIExpression)
    case matches(CIExpression, CIExpression)
    case notMatches(CIExpression, CIExpression)
    case and(CIExpression, CIExpression)
    case or(CIExpression, CIExpression)

    /// GitLab's `Lexer::MAX_TOKENS`.
    public static let maxTokens = 100
    /// Longest expression text read at all, so a huge string literal costs nothing.
    public static let maxLength = 10_000
    /// Deepest parenthesis nesting; with at most 100 tokens it is never reached by valid input, but it bounds recursion.
    public static let maxNesting = 50

    /// Parses `text`, or throws a typed error; never traps, whatever the input.
    public static func parse(_ text: String) throws(CIExpressionError) -> CIExpression {
        guard text.utf8.count <= maxLength else { throw .tooLong }
        var lexer = CIExpressionLexer(text: text)
        let tokens = try lexer.tokens()
        guard !tokens.isEmpty else { throw .syntax }
        var parser = CIExpressionParser(tokens: tokens)
        let expression = try parser.expression(depth: 0)
        guard parser.isAtEnd else { throw .syntax }
        return expression
    }

    /// A runtime value: what Ruby's lexemes evaluate to.
    enum Value: Equatable {
        case null
        case string(String)
        case pattern(CIPattern)
        case bool(Bool)

        /// Ruby truthiness (`nil` and `false` are false; an empty string is true).
        var isTruthy: Bool {
            switch self {
            case .null, .bool(false): false
            default: true
            }
        }

        /// ActiveSupport's `present?`, which decides the statement.
        var isPresent: Bool {
            switch self {
            case .null, .bool(false): false
            case .string(let text): !text.allSatisfy(\.isWhitespace)
            case .pattern, .bool(true): true
            }
        }
    }

    /// Whether the statement is true for `variables` (GitLab's `Statement#truthful?`); false if matching takes over a second.
    public func isTrue(variables: [String: String]) -> Bool {
        (try? isTrue(variables: variables, budget: CIMatchBudget())) ?? false
    }

    /// Whether the statement is true for `variables`, or a `CIConfigError` once `budget` is spent.
    public func isTrue(variables: [String: String], budget: CIMatchBudget) throws(CIConfigError) -> Bool {
        try evaluate(variables, budget).isPresent
    }

    func evaluate(_ variables: [String: String], _ budget: CIMatchBudget) throws(CIConfigError) -> Value {
        switch self {
        case .variable(let name): return variables[name].map(Value.string) ?? .null
        case .string(let text): return .string(text)
        case .pattern(let pattern): return .pattern(pattern)
        case .null: return .null
        case .equals(let left, let right):
            return .bool(try left.evaluate(variables, budget) == right.evaluate(variables, budget))
        case .notEquals(let left, let right):
            return .bool(try left.evaluate(variables, budget) != right.evaluate(variables, budget))
        case .matches(let left, let right):
            return .bool(try Self.match(left.evaluate(variables, budget), right.evaluate(variables, budget), budget))
        case .notMatches(let left, let right):
            return .bool(try !Self.match(left.evaluate(variables, budget), right.evaluate(variables, budget), budget))
        case .and(let left, let right):
            let first = try left.evaluate(variables, budget)
            return first.isTruthy ? try right.evaluate(variables, budget) : first
        case .or(let left, let right):
            let first = try left.evaluate(variables, budget)
            return first.isTruthy ? first : try right.evaluate(variables, budget)
        }
    }

    private static func match(_ left: Value, _ right: Value, _ budget: CIMatchBudget) throws(CIConfigError) -> Bool {
        let text: String
        switch left {
        case .string(let value): text = value
        case .bool(let flag): text = String(flag)
        default: text = ""
        }
        switch right {
        case .pattern(let pattern):
            return try pattern.matches(text, budget: budget)
        case .string(let value):
            // A variable holding `/re/` is used as a regex; any other text is looked for as a substring, as Ruby's `scan`.
            if let pattern = CIPattern.literal(value) { return try pattern.matches(text, budget: budget) }
            return value.isEmpty || text.contains(value)
        default:
            return false
        }
    }
}

/// One lexeme of an expression.
enum CIExpressionToken: Equatable {
    case open, close, null
    case variable(String)
    case string(String)
    case pattern(CIPattern)
    case equals, notEquals, matches, notMatches, and, or
}

/// GitLab's lexer: skips whitespace, tries each lexeme in turn, at most `maxTokens` tokens.
struct CIExpressionLexer {
    private let bytes: [UInt8]
    private var position = 0

    init(text: String) { bytes = Array(text.utf8) }

    var isAtEnd: Bool { position >= bytes.count }

    mutating func tokens() throws(CIExpressionError) -> [CIExpressionToken] {
        var tokens: [CIExpressionToken] = []
        while true {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C].contains(bytes[position]) { position += 1 }
            if isAtEnd { return tokens }
            guard tokens.count < CIExpression.maxTokens else { throw .tooManyTokens }
            tokens.append(try next())
        }
    }

    private func starts(with text: String) -> Bool {
        let needle = Array(text.utf8)
        return bytes.count - position >= needle.count && Array(bytes[position..<position + needle.count]) == needle
    }

    private mutating func next() throws(CIExpressionError) -> CIExpressionToken {
        let byte = bytes[position]
        switch byte {
        case UInt8(ascii: "("):
            position += 1
            return .open
        case UInt8(ascii: ")"):
            position += 1
            return .close
        case UInt8(ascii: "$"):
            let start = position + 1
            var end = start
            while end < bytes.count, Self.isWord(bytes[end]) { end += 1 }
            guard end > start else { throw .unknownLexeme(offset: position) }
            position = end
            return .variable(String(decoding: bytes[start..<end], as: UTF8.self))
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            // `.*?` in GitLab's pattern: no escapes, and `.` does not cross a newline.
            var end = position + 1
            while end < bytes.count, bytes[end] != byte, bytes[end] != 0x0A { end += 1 }
            guard end < bytes.count, bytes[end] == byte else { throw .unknownLexeme(offset: position) }
            let text = String(decoding: bytes[(position + 1)..<end], as: UTF8.self)
            position = end + 1
            return .string(text)
        case UInt8(ascii: "/"):
            return try scanPattern()
        default:
            for (text, token) in Self.operators where starts(with: text) {
                position += text.utf8.count
                return token
            }
            if starts(with: "null") {
                position += 4
                return .null
            }
            throw .unknownLexeme(offset: position)
        }
    }

    private static let operators: [(String, CIExpressionToken)] = [
        ("==", .equals), ("=~", .matches), ("!=", .notEquals), ("!~", .notMatches), ("&&", .and), ("||", .or),
    ]

    private static func isWord(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
    }

    /// `%r{^/([^/]|\\/)+[^\\]/[ismU]*}`: at least two characters inside, the closing `/` not escaped; `\/` becomes `/`.
    mutating func scanPattern() throws(CIExpressionError) -> CIExpressionToken {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "/") else { throw .unknownLexeme(offset: position) }
        var index = position + 1
        var body: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
                body.append(UInt8(ascii: "/"))
                index += 2
                continue
            }
            if byte == UInt8(ascii: "/") { break }
            body.append(byte)
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                body.append(bytes[index + 1])
                index += 2
                continue
            }
            index += 1
        }
        guard index < bytes.count, !body.isEmpty else { throw .unknownLexeme(offset: position) }
        index += 1
        var flags = ""
        while index < bytes.count, [UInt8(ascii: "i"), UInt8(ascii: "s"), UInt8(ascii: "m"), UInt8(ascii: "U")].contains(bytes[index]) {
            flags.append(Character(Unicode.Scalar(bytes[index])))
            index += 1
        }
        let pattern = CIPattern(source: String(decoding: body, as: UTF8.self), flags: flags)
        guard pattern.compiled() != nil else { throw .invalidRegularExpression }
        if let reason = CIPatternSafety.refusal(pattern.source) {
            throw .unsafeRegularExpression(pattern: "/\(pattern.source)/\(flags)", reason: reason)
        }
        position = index
        return .pattern(pattern)
    }
}

/// Recursive descent over at most `maxTokens` tokens: `or := and ('||' and)*`, `and := cmp ('&&' cmp)*`,
/// `cmp := primary (op primary)*`, `primary := value | '(' or ')'`.
struct CIExpressionParser {
    let tokens: [CIExpressionToken]
    var index = 0

    var isAtEnd: Bool { index >= tokens.count }

    private var current: CIExpressionToken? { index < tokens.count ? tokens[index] : nil }

    mutating func expression(depth: Int) throws(CIExpressionError) -> CIExpression {
        guard depth <= CIExpression.maxNesting else { throw .tooDeep }
        var left = try conjunction(depth: depth)
        while current == .or {
            index += 1
            left = .or(left, try conjunction(depth: depth))
        }
        return left
    }

    private mutating func conjunction(depth: Int) throws(CIExpressionError) -> CIExpression {
        var left = try comparison(depth: depth)
        while current == .and {
            index += 1
            left = .and(left, try comparison(depth: depth))
        }
        return left
    }

    private mutating func comparison(depth: Int) throws(CIExpressionError) -> CIExpression {
        var left = try primary(depth: depth)
        while let token = current, [.equals, .notEquals, .matches, .notMatches].contains(token) {
            index += 1
            let right = try primary(depth: depth)
            switch token {
            case .equals: left = .equals(left, right)
            case .notEquals: left = .notEquals(left, right)
            case .matches: left = .matches(left, right)
            default: left = .notMatches(left, right)
            }
        }
        return left
    }

    private mutating func primary(depth: Int) throws(CIExpressionError) -> CIExpression {
        guard let token = current else { throw .syntax }
        index += 1
        switch token {
        case .variable(let name): return .variable(name)
        case .string(let text): return .string(text)
        case .pattern(let pattern): return .pattern(pattern)
        case .null: return .null
        case .open:
            let inner = try expression(depth: depth + 1)
            guard current == .close else { throw .syntax }
            index += 1
            return inner
        default:
            throw .syntax
        }
    }
}
