import Testing

@testable import LatchkeyCore

@Suite("GitLab's CI expression language")
struct CIExpressionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var expression: String
        var expected: Bool
        var testDescription: String { "\(expression) is \(expected)" }
    }

    static let variables = [
        "CI_COMMIT_BRANCH": "main", "CI_PIPELINE_SOURCE": "push", "EMPTY": "", "TAG": "v1.2.3", "RE": "/^v1/", "TEXT": "release candidate",
    ]

    static let cases: [Case] = [
        Case(expression: "$CI_COMMIT_BRANCH", expected: true),
        Case(expression: "$MISSING", expected: false),
        Case(expression: "$EMPTY", expected: false),
        Case(expression: #"$CI_COMMIT_BRANCH == "main""#, expected: true),
        Case(expression: "$CI_COMMIT_BRANCH == 'dev'", expected: false),
        Case(expression: #"$CI_COMMIT_BRANCH != "dev""#, expected: true),
        Case(expression: "$MISSING == null", expected: true),
        Case(expression: "$EMPTY == null", expected: false),
        Case(expression: #"$EMPTY == """#, expected: true),
        Case(expression: "$MISSING != null", expected: false),
        Case(expression: "$TAG =~ /^v\\d+\\.\\d+/", expected: true),
        Case(expression: "$TAG !~ /^v\\d+/", expected: false),
        Case(expression: "$CI_COMMIT_BRANCH =~ /MAIN/i", expected: true),
        Case(expression: "$CI_COMMIT_BRANCH =~ /MAIN/", expected: false),
        Case(expression: "$MISSING =~ /x/", expected: false),
        Case(expression: "$TAG =~ $RE", expected: true),
        Case(expression: #"$TEXT =~ "candidate""#, expected: true),
        Case(expression: #"$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == "main""#, expected: true),
        Case(expression: #"$CI_PIPELINE_SOURCE == "web" || $CI_COMMIT_BRANCH == "main""#, expected: true),
        Case(expression: #"$CI_PIPELINE_SOURCE == "web" || $MISSING && $TAG"#, expected: false),
        Case(expression: #"($CI_PIPELINE_SOURCE == "web" || $CI_COMMIT_BRANCH) && $TAG =~ /^v/"#, expected: true),
        Case(expression: #"$CI_PIPELINE_SOURCE == "web" || ($MISSING && $TAG)"#, expected: false),
        Case(expression: "$A/B =~ /x/".replacingOccurrences(of: "$A/B", with: "$TAG"), expected: false),
        Case(expression: #"$CI_COMMIT_BRANCH =~ /^ma\/in|main$/"#, expected: true),
        Case(expression: #""main""#, expected: true),
        Case(expression: "null", expected: false),
    ]

    @Test("expressions evaluate as GitLab's Statement#truthful?", arguments: cases)
    func evaluates(_ example: Case) throws {
        let expression = try CIExpression.parse(example.expression)
        #expect(expression.isTrue(variables: Self.variables) == example.expected)
    }

    @Test("invalid syntax is a typed error", arguments: ["", "   ", "$A ==", "== $A", "$A $B", "($A", "$A)", "$", "\"open", "/x", "$A = 1", "$A =~ /(?=x)/", "$A =~ /(a)\\1/", "&& $A"])
    func refusesInvalidSyntax(_ text: String) {
        #expect(throws: CIExpressionError.self) { try CIExpression.parse(text) }
    }

    @Test("comparisons bind tighter than && which binds tighter than ||")
    func precedence() throws {
        let parsed = try CIExpression.parse(#"$A == "1" || $B == "2" && $C"#)
        #expect(parsed == .or(.equals(.variable("A"), .string("1")), .and(.equals(.variable("B"), .string("2")), .variable("C"))))
    }

    @Test("hostile input ends in a typed error, never a crash or a deep recursion")
    func hostileInput() {
        // GitLab's 100-token limit is reached before the nesting limit, which only bounds recursion.
        #expect(throws: CIExpressionError.tooManyTokens) { try CIExpression.parse(String(repeating: "(", count: 60) + "$A" + String(repeating: ")", count: 60)) }
        #expect(throws: CIExpressionError.tooManyTokens) { try CIExpression.parse(Array(repeating: "$A", count: 101).joined(separator: " && ")) }
        #expect(throws: CIExpressionError.tooLong) { try CIExpression.parse("\"" + String(repeating: "a", count: 20_000) + "\"") }
        #expect(throws: CIExpressionError.self) { try CIExpression.parse(String(repeating: "(", count: 100_000)) }
        #expect(throws: CIExpressionError.self) { try CIExpression.parse(String(repeating: "\u{0}", count: 100)) }
        // Forty-nine levels (98 parentheses plus the operand) is the deepest GitLab's token limit lets through.
        let deep = String(repeating: "(", count: 49) + "$A" + String(repeating: ")", count: 49)
        #expect((try? CIExpression.parse(deep))?.isTrue(variables: ["A": "x"]) == true)
    }

    @Test("random byte strings never trap the lexer or parser")
    func fuzzes() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("$AB_()\"'/=!~&| null\\im")
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<40, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator) ?? "$" })
            if let expression = try? CIExpression.parse(text) { _ = expression.isTrue(variables: ["A": "a/b", "B": ""]) }
        }
    }
}

@Suite("Globs as GitLab matches rules:changes and rules:exists")
struct CIGlobTests {
    @Test(
        "fnmatch with FNM_PATHNAME, FNM_DOTMATCH and FNM_EXTGLOB",
        arguments: [
            ("*.md", "README.md", true), ("*.md", "docs/README.md", false), ("**/*.md", "docs/a/README.md", true),
            ("**/*.md", "README.md", true), ("docs/**/*", "docs/a/b.txt", true), ("docs/*", "docs/a/b.txt", false),
            ("services/api/**/*", "services/api/main.go", true), ("services/api/**/*", "services/web/main.go", false),
            ("*.{js,ts}", "app.ts", true), ("*.{js,ts}", "app.rb", false), ("?.txt", "a.txt", true), ("[ab].txt", "c.txt", false),
            ("[!ab].txt", "c.txt", true), ("*", ".gitlab-ci.yml", true), ("Dockerfile", "Dockerfile", true), ("Dockerfile", "x/Dockerfile", false),
        ])
    func matches(_ pattern: String, _ path: String, _ expected: Bool) {
        #expect(CIGlob(pattern).matches(path) == expected)
    }

    @Test("pathological globs stay polynomial and brace bombs match nothing")
    func hostileGlobs() {
        let path = String(repeating: "a", count: 2000) + "b"
        #expect(!CIGlob(String(repeating: "*a", count: 500) + "c").matches(path))
        #expect(!CIGlob(String(repeating: "{a,b}", count: 20)).matches("ab"))
        #expect(!CIGlob(String(repeating: "**/", count: 1000) + "x").matches(String(repeating: "d/", count: 500) + "y"))
    }
}
