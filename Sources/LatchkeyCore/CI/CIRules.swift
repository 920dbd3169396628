/// `rules:changes`: globs, optionally compared to another ref.
struct CIReadChanges: Equatable {
    var paths: [String]
    var compareTo: String?
}

/// One validated item of `rules:` (a job's or `workflow:`'s).
struct CIReadRule: Equatable {
    var condition: CIExpression?
    var changes: CIReadChanges?
    var exists: [String]?
    var when: String?
    var startInSeconds: Int?
    var allowFailure: Bool?
    var interruptible: Bool?
    var variables: [CIVariable]?
    var needs: [CIReadNeed]?
}

/// What the first matching rule decided.
struct CIRuleOutcome: Equatable {
    var when: String
    var rule: CIReadRule?
}

/// Facts `changes` and `exists` are decided on, fetched before evaluation.
struct CIRuleFacts {
    var context: CIPipelineContext
    /// Every path of the commit, when some rule uses `exists`.
    var paths: [String]?
    /// `compare_to` ref → paths changed against it (nil: unknown ref).
    var comparisons: [String: [String]?] = [:]
    /// `cache:key:files` path → id of the last commit that touched it (paths without one are left out).
    var fileCommits: [String: String] = [:]
    /// Spent by every regex match of the evaluation; starts when the facts are gathered, just before it.
    var budget = CIMatchBudget()
}

extension CIConfigReader {
    /// GitLab's limit on `changes` and `exists` entries.
    static let maxRulePaths = 50
    static let jobRuleKeys: Set<String> = ["if", "changes", "exists", "when", "start_in", "allow_failure", "variables", "needs", "interruptible"]
    static let jobRuleWhens = ["on_success", "on_failure", "always", "never", "manual", "delayed"]
    static let workflowRuleKeys: Set<String> = ["if", "changes", "exists", "when", "variables", "auto_cancel"]
    static let workflowRuleWhens = ["always", "never"]

    /// `rules:` as `Entry::Rules`: an array of hashes (nested arrays from `!reference` flattened), each validated.
    mutating func readRules(_ value: YAMLValue, location: String, keys: Set<String>, whens: [String]) -> [CIReadRule]? {
        guard case .sequence(let items) = value else {
            fail(location, "config should be a array")
            return nil
        }
        var rules: [CIReadRule] = []
        let ruleLocation = "\(location):rule"
        for item in items.flatMap({ if case .sequence(let inner) = $0 { inner } else { [$0] } }) {
            guard case .mapping(let mapping) = item, !mapping.isEmpty else {
                fail(ruleLocation, item == .null || item.mapping?.isEmpty == true ? "config can't be blank" : "config should be a hash")
                continue
            }
            let unknown = mapping.keys.filter { !keys.contains($0) }
            if !unknown.isEmpty { fail(ruleLocation, "config contains unknown keys: \(unknown.joined(separator: ", "))") }
            var rule = CIReadRule()
            if let text = mapping.present("if") {
                if let source = text.stringValue {
                    do {
                        rule.condition = try CIExpression.parse(source)
                    } catch {
                        fail(ruleLocation, error.message("if invalid expression syntax"))
                    }
                } else {
                    fail(ruleLocation, "if invalid expression syntax")
                }
            }
            if let changes = mapping.present("changes") { rule.changes = readChanges(changes, location: "\(ruleLocation):changes") }
            if let exists = mapping.present("exists") { rule.exists = readRulePaths(exists, location: "\(ruleLocation):exists") }
            if let when = mapping.present("when") {
                if let text = when.stringValue, whens.contains(text) {
                    rule.when = text
                } else {
                    fail(ruleLocation, "when unknown value: \(CIExtends.rubyText(when))")
                }
            }
            if rule.when == "delayed" {
                if let startIn = mapping.present("start_in") {
                    rule.startInSeconds = readStartIn(startIn, location: ruleLocation)
                } else {
                    fail(ruleLocation, "start in can't be blank")
                }
            } else if mapping.has("start_in") {
                fail(ruleLocation, "config contains disallowed keys: start_in")
            }
            if let flag = mapping.present("allow_failure") {
                if case .bool(let value) = flag { rule.allowFailure = value } else { fail(ruleLocation, "allow failure should be a boolean value") }
            }
            if let flag = mapping.present("interruptible") {
                if case .bool(let value) = flag { rule.interruptible = value } else { fail(ruleLocation, "interruptible should be a boolean value") }
            }
            if let variables = mapping.present("variables") {
                rule.variables = readVariables(variables, location: "\(ruleLocation):variables", allowedData: ["value", "expand"])
            }
            if let needs = mapping.present("needs") { rule.needs = readNeeds(needs, location: "\(ruleLocation):needs") }
            if mapping.has("auto_cancel") { fail(ruleLocation, "auto_cancel is not supported by Latchkey") }
            rules.append(rule)
        }
        return rules
    }

    private mutating func readChanges(_ value: YAMLValue, location: String) -> CIReadChanges? {
        if case .mapping(let mapping) = value {
            let unknown = mapping.keys.filter { !["paths", "compare_to"].contains($0) }
            if !unknown.isEmpty { fail(location, "config contains unknown keys: \(unknown.joined(separator: ", "))") }
            guard let paths = mapping.present("paths") else {
                fail(location, "paths can't be blank")
                return nil
            }
            var compareTo: String?
            if let ref = mapping.present("compare_to") {
                if let text = ref.stringValue { compareTo = text } else { fail(location, "compare to should be a string") }
            }
            return readRulePaths(paths, location: location, key: "paths ").map { CIReadChanges(paths: $0, compareTo: compareTo) }
        }
        return readRulePaths(value, location: location).map { CIReadChanges(paths: $0, compareTo: nil) }
    }

    private mutating func readRulePaths(_ value: YAMLValue, location: String, key: String = "config ") -> [String]? {
        guard let paths = value.strings else {
            fail(location, "\(key)should be an array of strings")
            return nil
        }
        guard paths.count <= Self.maxRulePaths else {
            fail(location, "\(key)has too many entries (maximum \(Self.maxRulePaths))")
            return nil
        }
        return paths
    }

    /// A `start_in` duration of at most one week (GitLab's `duration: { limit: '1 week' }`).
    mutating func readStartIn(_ value: YAMLValue, location: String) -> Int? {
        guard let seconds = value.stringValue.flatMap(CIDuration.seconds) else {
            fail(location, "start in should be a duration")
            return nil
        }
        guard seconds <= 7 * 24 * 3600 else {
            fail(location, "start in should not exceed the limit")
            return nil
        }
        return seconds
    }
}

extension CIReadRule {
    /// Whether every clause given holds (a rule without clauses always matches).
    func matches(variables: [String: String], facts: CIRuleFacts) throws(CIConfigError) -> Bool {
        if let condition, try !condition.isTrue(variables: variables, budget: facts.budget) { return false }
        if let changes {
            let changed: [String]?
            if let compareTo = changes.compareTo {
                // An unknown `compare_to` ref is an error in GitLab; we only get here if it could not be resolved late.
                changed = facts.comparisons[compareTo] ?? nil
            } else if facts.context.isNewRefOrNoPush {
                changed = nil
            } else {
                changed = facts.context.changedPaths
            }
            // No push to compare with (new branch or tag, API, schedule, trigger): GitLab counts `changes` as true.
            if let changed {
                let globs = changes.paths.map { CIGlob(CIVariableExpansion.expand($0, variables)) }
                guard changed.contains(where: { path in globs.contains { $0.matches(path) } }) else { return false }
            }
        }
        if let exists {
            let paths = facts.paths ?? []
            let globs = exists.map { CIGlob(CIVariableExpansion.expand($0, variables)) }
            let present = Set(paths)
            let found = globs.contains { glob in glob.isLiteral ? present.contains(glob.pattern) : paths.contains { glob.matches($0) } }
            if !found { return false }
        }
        return true
    }
}

extension CIPipelineContext {
    /// No push range to compare: `changes` is then true.
    var isNewRefOrNoPush: Bool { source != .push || changedPaths == nil }
}

extension Array where Element == CIReadRule {
    /// GitLab's `Build::Rules#evaluate`: the first matching rule decides; none matching means `never`.
    func evaluate(variables: [String: String], facts: CIRuleFacts, defaultWhen: String) throws(CIConfigError) -> CIRuleOutcome {
        for rule in self where try rule.matches(variables: variables, facts: facts) {
            return CIRuleOutcome(when: rule.when ?? defaultWhen, rule: rule)
        }
        return CIRuleOutcome(when: "never", rule: nil)
    }

    var usesExists: Bool { contains { $0.exists != nil } }
    var compareRefs: [String] { compactMap { $0.changes?.compareTo } }
}
