/// A validated `only:` or `except:` (GitLab's `Entry::Policy`).
struct CIReadPolicy: Equatable {
    var refs: [String]?
    var variables: [CIExpression]?
    var changes: [String]?

    /// What a job without `rules`, `only` or `except` gets: `only: [branches, tags]`.
    static let defaultOnly = CIReadPolicy(refs: ["branches", "tags"])
}

extension CIConfigReader {
    mutating func readPolicy(_ value: YAMLValue, location: String) -> CIReadPolicy? {
        switch value {
        case .sequence, .string:
            guard let refs = value.strings ?? value.stringValue.map({ [$0] }) else {
                fail(location, "config should be an array of strings or regular expressions")
                return nil
            }
            return checkedRefs(refs, location: location).map { CIReadPolicy(refs: $0) }
        case .mapping(let mapping):
            let unknown = mapping.keys.filter { !["refs", "kubernetes", "variables", "changes"].contains($0) }
            if !unknown.isEmpty { fail(location, "config contains unknown keys: \(unknown.joined(separator: ", "))") }
            if mapping.has("kubernetes") { fail(location, "kubernetes is not supported by Latchkey") }
            var policy = CIReadPolicy()
            if let refs = mapping.present("refs") {
                if let strings = refs.strings {
                    policy.refs = checkedRefs(strings, location: "\(location):refs")
                } else {
                    fail("\(location):refs", "config should be an array of strings or regular expressions")
                }
            }
            if let variables = mapping.present("variables") {
                if let statements = variables.strings {
                    var expressions: [CIExpression] = []
                    for statement in statements {
                        do {
                            expressions.append(try CIExpression.parse(statement))
                        } catch {
                            fail("\(location):variables", error.message("config should be valid expression syntax"))
                        }
                    }
                    policy.variables = expressions
                } else {
                    fail("\(location):variables", "config should be an array of strings")
                }
            }
            if let changes = mapping.present("changes") {
                if let paths = changes.strings { policy.changes = paths } else { fail("\(location):changes", "config should be an array of strings") }
            }
            return policy
        default:
            fail(location, "config should be an array of strings or regular expressions")
            return nil
        }
    }

    private mutating func checkedRefs(_ refs: [String], location: String) -> [String]? {
        for ref in refs where ref.hasPrefix("/") && CIPattern.literal(ref) == nil {
            let base = "config should be an array of strings or regular expressions"
            fail(location, CIPattern.refusal(ref)?.message(base) ?? base)
            return nil
        }
        return refs
    }
}

extension CIReadPolicy {
    /// GitLab's `Build::Policy`: every kind given (refs, variables, changes) must be satisfied.
    func isSatisfied(variables: [String: String], facts: CIRuleFacts) throws(CIConfigError) -> Bool {
        let context = facts.context
        if let refs, try !Self.any(refs, { ref throws(CIConfigError) in try Self.refMatches(ref, facts: facts) }) { return false }
        if let expressions = self.variables, try !Self.any(expressions, { expression throws(CIConfigError) in try expression.isTrue(variables: variables, budget: facts.budget) }) { return false }
        if let changes, !context.isNewRefOrNoPush, let changed = context.changedPaths {
            let globs = changes.map { CIGlob(CIVariableExpansion.expand($0, variables)) }
            if !changed.contains(where: { path in globs.contains { $0.matches(path) } }) { return false }
        }
        return true
    }

    /// `Policy::Refs#matches_pattern?`, with `pattern@project/path` limiting a pattern to one project.
    static func refMatches(_ written: String, facts: CIRuleFacts) throws(CIConfigError) -> Bool {
        let context = facts.context
        var pattern = written
        if !written.hasPrefix("/"), let at = written.lastIndex(of: "@") {
            guard written[written.index(after: at)...] == context.projectPath else { return false }
            pattern = String(written[..<at])
        }
        if context.isTag && pattern == "tags" { return true }
        if !context.isTag && pattern == "branches" { return true }
        let source = context.source.rawValue
        if pattern == source || pattern == pluralized(source) { return true }
        if let regex = CIPattern.literal(pattern) { return try regex.matches(context.ref, budget: facts.budget) }
        return pattern == context.ref
    }

    /// `contains(where:)` keeping the typed error (a `rethrows` would widen it to `any Error`).
    static func any<T>(_ items: [T], _ test: (T) throws(CIConfigError) -> Bool) throws(CIConfigError) -> Bool {
        for item in items where try test(item) { return true }
        return false
    }

    /// ActiveSupport's `pluralize` for the source names GitLab has.
    private static func pluralized(_ source: String) -> String {
        switch source {
        case "push": "pushes"
        case "parent_pipeline": "parent_pipelines"
        default: source + "s"
        }
    }
}
