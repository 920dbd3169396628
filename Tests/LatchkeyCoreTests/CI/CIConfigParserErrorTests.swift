import Testing

@testable import LatchkeyCore

@Suite("Refusing an invalid .gitlab-ci.yml with GitLab's messages")
struct CIConfigParserErrorTests {
    private func messages(_ yaml: String) -> [String] {
        do {
            _ = try CIConfigParser.parse(yaml)
            return []
        } catch {
            return error.messages
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var yaml: String
        var expected: String
        var testDescription: String { expected }
    }

    static let entryCases: [Case] = [
        Case(yaml: "build: {script: x, foo: 1, bar: 2}", expected: "jobs:build config contains unknown keys: foo, bar"),
        Case(yaml: "build: {stage: test}\nok: {script: x}", expected: "jobs build config should implement the script:, run:, or trigger: keyword"),
        Case(yaml: "my job: {stage: test}\nok: {script: x}", expected: "jobs my_job config should implement the script:, run:, or trigger: keyword"),
        Case(yaml: "build: {script: x, when: later}", expected: "jobs:build when should be one of: on_success, on_failure, always, manual, delayed"),
        Case(yaml: "build: {script: x, when: never}", expected: "jobs:build when should be one of: on_success, on_failure, always, manual, delayed"),
        Case(yaml: "build: {script: x, when: 3}", expected: "jobs:build when should be a string"),
        Case(yaml: "build: {script: x, start_in: 1m}", expected: "jobs:build start in must be blank"),
        Case(yaml: "build: {script: []}", expected: "jobs:build script can't be blank"),
        Case(yaml: "build: {script: }", expected: "jobs:build script can't be blank"),
        Case(yaml: "build: {script: 42}", expected: "jobs:build:script config should be a string or a nested array of strings up to 10 levels deep"),
        Case(
            yaml: "build: {script: [true]}",
            expected: "jobs:build:script config should be a string or a nested array of strings up to 10 levels deep"
        ),
        Case(
            yaml: "build: {script: x, before_script: {a: b}}",
            expected: "jobs:build:before_script config should be a string or a nested array of strings up to 10 levels deep"
        ),
        Case(yaml: "build: {script: x, allow_failure: maybe}", expected: "jobs:build allow failure should be a hash or a boolean value"),
        Case(yaml: "build: {script: x, dependencies: a}", expected: "jobs:build dependencies should be an array of strings"),
        Case(yaml: "build: {script: x, stage: [a]}", expected: "jobs:build:stage config should be a string"),
        Case(yaml: "build: {script: x, tags: linux}", expected: "jobs:build:tags config should be an array of strings"),
        Case(yaml: "build: {script: x, timeout: soon}", expected: "jobs:build:timeout config should be a duration"),
        Case(yaml: "build: {script: x, timeout: 3600}", expected: "jobs:build:timeout config should be a duration"),
        Case(yaml: "build: {script: x, timeout: 31 days}", expected: "jobs:build:timeout config should not exceed the limit"),
        Case(yaml: "build: {script: x, interruptible: yes please}", expected: "jobs:build:interruptible config should be a boolean value"),
        Case(yaml: "build: {script: x, image: [a]}", expected: "jobs:build:image config should be a hash or a string"),
        Case(yaml: "build: {script: x, retry: many}", expected: "jobs:build:retry config has to be either an integer or a hash"),
        Case(yaml: "build: {script: x, extends: {a: b}}", expected: "build: unknown keys in `extends` ({a})"),
        Case(yaml: "build: {script: x, variables: [A]}", expected: "jobs:build:variables config should be a hash"),
        Case(yaml: "build: {script: x, variables: {A: true}}", expected: "variable definition must be either a string or a hash"),
        Case(
            yaml: "build: {script: x, variables: {A: {value: x, description: d}}}",
            expected: "jobs:build:variables:a config uses invalid data keys: description"
        ),
        Case(yaml: "variables: {A: {value: [x]}}\nbuild: {script: x}", expected: "variables:a config value must be an alphanumeric string"),
        Case(yaml: "variables: {A: {value: x, options: [y]}}\nbuild: {script: x}", expected: "variables:a config value must be present in options"),
        Case(yaml: "variables: [A]\nbuild: {script: x}", expected: "variables config should be a hash"),
        Case(yaml: "stages: build\nbuild: {script: x}", expected: "stages config should be an array of strings"),
        Case(yaml: "default: {scripts: x}\nbuild: {script: x}", expected: "default config contains unknown keys: scripts"),
        Case(yaml: "default: [x]\nbuild: {script: x}", expected: "default config should be a hash"),
        Case(
            yaml: "default: {before_script: [a]}\nbefore_script: [b]\nbuild: {script: x}",
            expected: "before_script is defined in top-level and `default:` entry"
        ),
        Case(yaml: "build: {script: x, artifacts: [a]}", expected: "jobs:build:artifacts config should be a hash"),
        Case(yaml: "build: {script: x, artifacts: {paths: a}}", expected: "jobs:build:artifacts paths should be an array of strings"),
        Case(
            yaml: "build: {script: x, artifacts: {when: sometimes}}",
            expected: "jobs:build:artifacts when should be one of: on_success, on_failure, always"
        ),
        Case(yaml: "build: {script: x, artifacts: {expire_in: eventually}}", expected: "jobs:build:artifacts expire in should be a duration"),
        Case(yaml: "build: {script: x, artifacts: {name: [a]}}", expected: "jobs:build:artifacts name should be a string"),
        Case(yaml: "build: {script: x, artifacts: {paht: [a]}}", expected: "jobs:build:artifacts config contains unknown keys: paht"),
        Case(yaml: "build: {script: x, needs: a}", expected: "jobs:build:needs config can only be a hash or an array"),
        Case(yaml: "build: {script: x, needs: [{job: a, foo: b}]}", expected: "jobs:build:needs:need config contains unknown keys: foo"),
        Case(yaml: "build: {script: x, needs: [{job: a, artifacts: sure}]}", expected: "jobs:build:needs:need artifacts should be a boolean value"),
        Case(yaml: "build: {script: x, needs: [3]}", expected: "jobs:build:needs:need has an unsupported type"),
        Case(yaml: "build: {script: x, needs: [a], dependencies: [b]}", expected: "jobs:build dependencies the b should be part of needs"),
        Case(yaml: "Build: {script: x, Foo: 1}", expected: "jobs:build config contains unknown keys: foo"),
        Case(yaml: ".hidden: {script: x}", expected: "jobs config should contain at least one visible job"),
        Case(yaml: "stages: [a]", expected: "jobs config should contain at least one visible job"),
        Case(
            yaml: "build: {script: x, rules: [{when: always}], only: [main]}",
            expected: "jobs:build config key may not be used with `rules`: only"
        ),
        Case(yaml: "build: {script: x, trigger: other/project}", expected: "jobs:build config contains unknown keys: trigger"),
        Case(yaml: "include: other.yml\nbuild: {script: x}", expected: "Local file `other.yml` does not exist!"),
        Case(yaml: "workflow: {rules: [{when: sometimes}]}\nbuild: {script: x}", expected: "workflow:rules:rule when unknown value: sometimes"),
        Case(yaml: "build: {script: !reference [.a, script]}", expected: "!reference [\".a\", \"script\"] could not be found"),
        Case(yaml: "build: {script: x, rules: [{if: '$A ==='}]}", expected: "jobs:build:rules:rule if invalid expression syntax"),
        Case(yaml: "build: {script: x, rules: [{if: '$A', foo: 1}]}", expected: "jobs:build:rules:rule config contains unknown keys: foo"),
        Case(yaml: "build: {script: x, rules: {if: '$A'}}", expected: "jobs:build:rules config should be a array"),
        Case(yaml: "build: {script: x, rules: [{when: delayed, start_in: 8 days}]}", expected: "jobs:build:rules:rule start in should not exceed the limit"),
        Case(yaml: "build: {script: x, rules: [{when: on_success, start_in: 1 day}]}", expected: "jobs:build:rules:rule config contains disallowed keys: start_in"),
        Case(yaml: "build: {script: x, parallel: 201}", expected: "jobs:build:parallel config must be less than or equal to 200"),
        Case(yaml: "build: {script: x, parallel: 0}", expected: "jobs:build:parallel config must be greater than or equal to 1"),
        Case(yaml: "build: {script: x, only: [/+/]}", expected: "jobs:build:only config should be an array of strings or regular expressions"),
        Case(yaml: "build: {script: x, secrets: {A: {vault: x}}}", expected: "jobs:build config contains keys latchkey does not support: secrets"),
        Case(yaml: "include: {remote: 'https://example.com/a.yml'}\nbuild: {script: x}", expected: "include config is not supported without a repository"),
        Case(yaml: "build: {script: x, retry: {max: 1, when: [sometimes]}}", expected: "jobs:build:retry when config should be one of the following values: always, unknown_failure, script_failure, api_failure, stuck_or_timeout_failure, runner_system_failure, runner_unsupported, stale_schedule, job_execution_timeout, archived_failure, unmet_prerequisites, scheduler_failure, data_integrity_failure"),
    ]

    @Test("entry errors carry GitLab's wording", arguments: entryCases)
    func entryErrors(_ example: Case) {
        #expect(messages(example.yaml).contains(example.expected), "got \(messages(example.yaml))")
    }

    @Test("every entry error is reported, not only the first")
    func collectsAllEntryErrors() {
        let found = messages(
            """
            a: {script: x, foo: 1}
            b: {script: x, when: later}
            c: {stage: test}
            """
        )
        #expect(
            found == [
                "jobs:a config contains unknown keys: foo",
                "jobs:b when should be one of: on_success, on_failure, always, manual, delayed",
                "jobs c config should implement the script:, run:, or trigger: keyword",
            ]
        )
    }

    static let relationCases: [Case] = [
        Case(
            yaml: "build: {stage: prod, script: x}",
            expected: "build job: chosen stage prod does not exist; available stages are .pre, build, test, deploy, .post"
        ),
        Case(
            yaml: "stages: [one]\nbuild: {script: x}",
            expected: "build job: chosen stage test does not exist; available stages are .pre, one, .post"
        ),
        Case(yaml: "build: {script: x, dependencies: [ghost]}", expected: "build job: undefined dependency: ghost"),
        Case(
            yaml: "a: {stage: build, script: x, dependencies: [b]}\nb: {stage: test, script: x}",
            expected: "a job: dependency b is not defined in current or prior stages"
        ),
        Case(yaml: "build: {script: x, needs: [ghost]}", expected: "build job: undefined need: ghost"),
        Case(
            yaml: "a: {stage: build, script: x, needs: [b]}\nb: {stage: test, script: x}",
            expected: "a job: need b is not defined in current or prior stages"
        ),
        Case(yaml: "a: {script: x}\nb: {script: x, needs: [a, a]}", expected: "b has the following needs duplicated: a."),
        Case(yaml: "a: {script: x, needs: [b]}\nb: {script: x, needs: [a]}", expected: "The pipeline has circular dependencies"),
        Case(yaml: ".hidden: {script: x}\nb: {script: x, needs: [.hidden]}", expected: "b job: undefined need: .hidden"),
    ]

    @Test("cross-job errors carry GitLab's wording and stop at the first", arguments: relationCases)
    func relationErrors(_ example: Case) {
        #expect(messages(example.yaml) == [example.expected])
    }

    static let extendsCases: [Case] = [
        Case(yaml: "build: {extends: .missing, script: x}", expected: "build: unknown keys in `extends` (.missing)"),
        Case(yaml: ".base: [a]\nbuild: {extends: .base, script: x}", expected: "build: invalid base hashes in `extends` (.base)"),
        Case(yaml: "a: {extends: b, script: x}\nb: {extends: a, script: x}", expected: "a: circular dependency detected in `extends`"),
        Case(yaml: "a: {extends: a, script: x}", expected: "a: circular dependency detected in `extends`"),
        Case(
            yaml: (0...11).map { ".l\($0): {extends: .l\($0 + 1)}" }.joined(separator: "\n") + "\n.l12: {script: x}\nj: {extends: .l0}",
            expected: ".l11: nesting too deep in `extends`"
        ),
    ]

    @Test("extends errors carry GitLab's wording", arguments: extendsCases)
    func extendsErrors(_ example: Case) {
        #expect(messages(example.yaml) == [example.expected])
    }

    @Test("an empty or blank file asks for content")
    func emptyFile() {
        #expect(messages("") == ["Please provide content of .gitlab-ci.yml"])
        #expect(messages("  \n\t\n") == ["Please provide content of .gitlab-ci.yml"])
    }

    @Test("a document that is not a mapping is an invalid configuration format", arguments: ["# only a comment", "- a\n- b", "just text", "42", "~"])
    func notAMapping(_ yaml: String) {
        #expect(messages(yaml) == ["Invalid configuration format"])
    }

    @Test("invalid YAML says where it broke")
    func syntaxErrorHasLocation() throws {
        let found = messages("build:\n  script: [x\nother: y\n")
        let message = try #require(found.first)
        #expect(found.count == 1)
        #expect(message.hasPrefix("(<unknown>): "))
        #expect(message.contains("line "))
        #expect(message.contains("column "))
        let tabs = try #require(messages("build:\n\tscript: x\n").first)
        #expect(tabs.contains("line 2"))
    }

    @Test("duplicate keys and undefined aliases are YAML errors")
    func duplicateKeysAndBadAliases() throws {
        let duplicated = try #require(messages("a: {script: x}\na: {script: y}").first)
        #expect(duplicated.contains("a") && duplicated.contains("line 1"))
        let alias = try #require(messages("a: {script: *nope}").first)
        #expect(alias.hasPrefix("(<unknown>): "))
    }

    @Test("dates are refused as GitLab's safe YAML loader refuses them")
    func datesRefused() {
        #expect(messages("variables: {V: 2024-01-02}\nb: {script: x}") == ["Tried to load unspecified class: Date"])
    }

    @Test("brackets in quoted strings and comments do not count as nesting")
    func bracketsInStrings() throws {
        let lines = (0..<600).map { "    - echo \"[INFO {\" # [ { \($0)" }.joined(separator: "\n")
        let definition = try CIConfigParser.parse("job:\n  script:\n" + lines + "\n")
        #expect(definition.jobs.first?.script.count == 600)
    }

    @Test("alias bombs and deep nesting are too big, not a hang or a crash")
    func tooBig() {
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let previous = "*a\(level - 1)"
            bomb += "a\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]\n"
        }
        bomb += "job: {script: x}\n"
        #expect(messages(bomb) == ["The parsed YAML is too big"])
        let deepFlow = String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000)
        #expect(messages("a: " + deepFlow) == ["The parsed YAML is too big"])
        let deepBlock = String(repeating: "- ", count: 20_000) + "x"
        #expect(messages("a:\n  " + deepBlock) == ["The parsed YAML is too big"])
        #expect(messages(String(repeating: "#", count: 1_100_000)) == ["The parsed YAML is too big"])
    }
}
