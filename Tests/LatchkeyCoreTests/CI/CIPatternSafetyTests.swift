import Foundation
import Testing

@testable import LatchkeyCore

@Suite("Regular expressions of a hostile .gitlab-ci.yml cannot pin a server thread")
struct CIPatternSafetyTests {
    static let long = String(repeating: "a", count: 100_000) + "!"

    @Test(
        "classic exponential patterns are refused when the file is read",
        arguments: [
            "(a+)+$", "(a*)*$", "(.*)*x", "(\\w+\\s?)*$", "((a+))+$", "(a|b+)*c", "(?:a+)+$", "(a?){30}a{30}", "([a-z]+)*!", "(a+){2,}$",
        ])
    func refusesNestedQuantifiers(_ source: String) {
        #expect(CIPatternSafety.refusal(source) != nil)
        #expect(throws: CIExpressionError.self) { try CIExpression.parse("$A =~ /\(source)/") }
    }

    @Test(
        "what RE2 does not run is refused too",
        arguments: ["(a)\\1", "a(?=b)", "a(?!b)", "(?<=a)b", "(?<!a)b", "(?>a+)b", "a++b", "a{1001}", "a{2,5000}"])
    func refusesWhatRE2Refuses(_ source: String) {
        #expect(CIPatternSafety.refusal(source) != nil)
    }

    @Test(
        "patterns real pipelines use still read",
        arguments: [
            "^v\\d+(\\.\\d+)*$", "^(release|hotfix)\\/.+$", "^feature\\/.*", "^(\\d+\\.)+\\d+$", "^[a-z0-9-]+$", "(?i)^main$", "^v?[0-9]+\\.[0-9]+$",
            "^(main|master)$", "\\[skip ci\\]", "^release-\\d{4}-\\d{2}$", "(foo|bar)+", "[(+*]+", "\\p{L}+",
        ])
    func acceptsOrdinaryPatterns(_ source: String) throws {
        #expect(CIPatternSafety.refusal(source) == nil)
        _ = try CIExpression.parse("$A =~ /\(source)/")
    }

    @Test("a refused rules:if says why, after GitLab's message")
    func refusalMessage() {
        let yaml = """
            build:
              script: [make]
              rules:
                - if: '$CI_COMMIT_BRANCH =~ /(a+)+$/'
            """
        #expect {
            try CIConfigParser.parse(yaml)
        } throws: { error in
            let message = (error as? CIConfigError)?.description ?? ""
            return message.hasPrefix("jobs:build:rules:rule if invalid expression syntax: regular expression /(a+)+$/ is refused")
        }
    }

    @Test("an only: regex is checked the same way")
    func refusesOnlyRegex() {
        let yaml = "build:\n  script: [make]\n  only: ['/(a+)+$/']\n"
        #expect(throws: CIConfigError.self) { try CIConfigParser.parse(yaml) }
    }

    @Test("a slow pattern that passes the check is stopped by the budget against a 100 KB variable")
    func budgetStopsSlowMatches() {
        // `.*.*.*=` has no nested quantifier but costs ICU cubic time on 100 KB without a `=`; the deadline ends it.
        // (`^(a|aa)+$` is not used here: ICU's backtracking stack overflows within a second and answers "no match".)
        let expression = try? CIExpression.parse("$A =~ /.*.*.*=/")
        let started = ContinuousClock.now
        #expect(throws: CIConfigError.self) {
            _ = try expression?.isTrue(variables: ["A": Self.long], budget: CIMatchBudget(duration: .milliseconds(200)))
        }
        #expect(ContinuousClock.now - started < .seconds(15))
    }

    @Test("linear patterns against 100 KB still give a result")
    func linearPatternsAnswer() throws {
        let expression = try CIExpression.parse("$A =~ /^a+!$/ && $A !~ /b/")
        #expect(try expression.isTrue(variables: ["A": Self.long], budget: CIMatchBudget()))
    }

    @Test("pipeline creation with many slow rules and 100 KB variables fails fast with an error")
    func pipelineCreationEndsFast() async {
        let jobs = (1...50).map { "job\($0):\n  script: [make]\n  rules:\n    - if: '$BIG =~ /^(a|aa)+$/ || $BIG =~ /.*.*.*=/'\n" }.joined()
        let context = CIPipelineContext(source: .push, ref: "main", projectPath: "group/app", overrides: ["BIG": Self.long])
        let started = ContinuousClock.now
        await #expect {
            _ = try await CIConfigParser.parse(jobs, context: context, files: nil)
        } throws: { error in
            (error as? CIConfigError)?.description.contains("took too long") == true
        }
        #expect(ContinuousClock.now - started < CIMatchBudget.perPipeline + .seconds(2))
    }

    @Test("the scanner never traps on random pattern text")
    func fuzzes() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("()[]{},|*+?\\^$.ab1:=!<>P-")
        for _ in 0..<5000 {
            let length = Int.random(in: 0..<30, using: &generator)
            _ = CIPatternSafety.refusal(String((0..<length).map { _ in alphabet.randomElement(using: &generator) ?? "a" }))
        }
    }
}

@Suite("retry: which failures GitLab re-queues")
struct JobRetryTests {
    @Test(
        "max, when and exit_codes decide together",
        arguments: [
            (JobRetry(max: 2), 1, "script_failure", 1 as Int?, true),
            (JobRetry(max: 2), 2, "runner_system_failure", nil, true),
            (JobRetry(max: 2), 3, "script_failure", 1, false),
            (JobRetry(max: 0), 1, "script_failure", 1, false),
            (JobRetry(max: 1, when: ["runner_system_failure"]), 1, "script_failure", 1, false),
            (JobRetry(max: 1, when: ["runner_system_failure"]), 1, "runner_system_failure", nil, true),
            (JobRetry(max: 1, when: ["job_execution_timeout", "stuck_or_timeout_failure"]), 1, "stuck_or_timeout_failure", nil, true),
            (JobRetry(max: 1, exitCodes: [137]), 1, "script_failure", 137, true),
            (JobRetry(max: 1, exitCodes: [137]), 1, "script_failure", 1, false),
            (JobRetry(max: 1, exitCodes: [137]), 1, "runner_system_failure", nil, false),
        ])
    func decides(_ retry: JobRetry, _ attempts: Int, _ reason: String, _ exitCode: Int?, _ expected: Bool) {
        #expect(retry.retries(afterAttempts: attempts, reason: reason, exitCode: exitCode) == expected)
    }
}
