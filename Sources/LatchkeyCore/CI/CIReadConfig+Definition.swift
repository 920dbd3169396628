import Crypto

extension CIReadCache {
    /// The entry with its key as GitLab's `Seed::Build::Cache` makes it: a string key as given, `key:files` as the
    /// prefix and the SHA-1 of the files' last commit ids (sorted, distinct, joined by `-`), `default` without either.
    func resolved(commits: [String: String]) -> CICache {
        var cache = entry
        if let key {
            cache.key = key
        } else if let keyFiles {
            let ids = Set(keyFiles.compactMap { commits[$0] }).sorted()
            let digest = ids.isEmpty ? "default" : Insecure.SHA1.hash(data: Array(ids.joined(separator: "-").utf8)).map { byte in
                let hex = String(byte, radix: 16)
                return hex.count == 1 ? "0" + hex : hex
            }.joined()
            cache.key = [keyPrefix ?? "", digest].filter { !$0.isEmpty }.joined(separator: "-")
        }
        return cache
    }
}

/// One job of the file once `parallel:` is expanded, before rules decide whether it runs.
private struct CIInstance {
    var name: String
    var job: CIReadJob
    var matrix: [CIVariable]
    var index: Int?
    var total: Int?
}

extension CIReadConfig {
    /// Whether some rule asks for `exists` (so the commit's paths must be listed first).
    var usesExists: Bool {
        (workflowRules?.usesExists ?? false) || jobs.contains { $0.rules?.usesExists ?? false }
    }

    /// Every path a `cache:key:files` names, whose last commit the key is made of.
    var cacheKeyFiles: [String] {
        let caches = jobs.flatMap { $0.cache ?? [] } + (defaults.cache ?? [])
        return Array(Set(caches.flatMap { $0.keyFiles ?? [] }.filter { !$0.isEmpty })).sorted()
    }

    /// Every `changes:compare_to` ref the rules name.
    var compareRefs: [String] {
        Array(Set((workflowRules?.compareRefs ?? []) + jobs.flatMap { $0.rules?.compareRefs ?? [] }))
    }

    /// The pipeline GitLab would create for `facts`: workflow rules, parallel expansion, job rules or only/except, needs.
    func definition(facts: CIRuleFacts) throws(CIConfigError) -> PipelineDefinition {
        let context = facts.context
        var globals = variables
        func scope(_ yaml: [CIVariable]) -> [String: String] {
            var result = context.predefined
            for variable in yaml { result[variable.key] = variable.value }
            result.merge(context.overrides) { _, override in override }
            return result
        }

        if let workflowRules {
            let outcome = try workflowRules.evaluate(variables: scope(globals), facts: facts, defaultWhen: "always")
            guard outcome.when != "never" else { throw .filteredByWorkflow }
            // Variables of the matching workflow rule override the global ones.
            for variable in outcome.rule?.variables ?? [] {
                globals.removeAll { $0.key == variable.key }
                globals.append(variable)
            }
        }

        let limits = context.limits
        // Counted before anything is expanded, so a hostile file costs nothing beyond its own size.
        let expandedCount = jobs.reduce(0) { total, job in
            switch job.parallel {
            case .count(let count)?: total + count
            case .matrix(let rows)?: total + rows.count
            case nil: total + 1
            }
        }
        if expandedCount > limits.maximumExpandedJobs { throw limits.tooManyJobs }

        var instancesOf: [String: [CIInstance]] = [:]
        var instances: [CIInstance] = []
        for job in jobs {
            var expanded: [CIInstance] = []
            switch job.parallel {
            case .count(let total)?:
                expanded = (1...total).map { CIInstance(name: "\(job.name) \($0)/\(total)", job: job, matrix: [], index: $0, total: total) }
            case .matrix(let rows)?:
                expanded = rows.enumerated().map { offset, row in
                    CIInstance(
                        name: "\(job.name): [\(row.map(\.value).joined(separator: ", "))]", job: job, matrix: row, index: offset + 1, total: rows.count)
                }
            case nil:
                expanded = [CIInstance(name: job.name, job: job, matrix: [], index: nil, total: nil)]
            }
            instancesOf[job.name] = expanded
            instances += expanded
        }

        var chosen: [(instance: CIInstance, definition: JobDefinition, needs: [CIReadNeed]?)] = []
        for instance in instances {
            let job = instance.job
            let inherit = job.inherit ?? CIReadInherit()
            let inherited = globals.filter { inherit.variables.allows($0.key) }
            let own = job.variables + instance.matrix
            let visible = scope(inherited + own)
            var when = job.when
            var allowFailure = job.allowFailure ?? (job.when == .manual)
            var ruleVariables: [CIVariable] = []
            var needs = job.needs
            var interruptible = job.interruptible
            var startIn = job.startInSeconds
            if let rules = job.rules {
                let outcome = try rules.evaluate(variables: visible, facts: facts, defaultWhen: job.when.rawValue)
                if outcome.when == "never" { continue }
                guard let decided = JobWhen(rawValue: outcome.when) else {
                    throw CIConfigError("jobs:\(job.name) when: \(outcome.when) is not supported by Latchkey")
                }
                when = decided
                // With `rules`, a manual job blocks unless it says otherwise (GitLab's rules default).
                allowFailure = outcome.rule?.allowFailure ?? job.allowFailure ?? false
                ruleVariables = outcome.rule?.variables ?? []
                if let ruleNeeds = outcome.rule?.needs { needs = ruleNeeds }
                if let flag = outcome.rule?.interruptible { interruptible = flag }
                startIn = outcome.rule?.startInSeconds
            } else {
                let only = job.only ?? .defaultOnly
                guard try only.isSatisfied(variables: visible, facts: facts) else { continue }
                if let except = job.except, try except.isExcluding(variables: visible, facts: facts) { continue }
            }
            let defaults = inherit.defaults
            func fallback<T>(_ key: String, _ value: T?) -> T? { defaults.allows(key) ? value : nil }
            var jobVariables = own
            for variable in ruleVariables {
                jobVariables.removeAll { $0.key == variable.key }
                jobVariables.append(variable)
            }
            if let index = instance.index, let total = instance.total {
                jobVariables += [CIVariable(key: "CI_NODE_INDEX", value: String(index)), CIVariable(key: "CI_NODE_TOTAL", value: String(total))]
            }
            var definition = JobDefinition(
                name: instance.name,
                stage: job.stage,
                script: job.script,
                beforeScript: job.beforeScript ?? fallback("before_script", self.defaults.beforeScript) ?? [],
                afterScript: job.afterScript ?? fallback("after_script", self.defaults.afterScript) ?? [],
                variables: jobVariables,
                artifacts: job.artifacts ?? fallback("artifacts", self.defaults.artifacts),
                dependencies: nil,
                needs: nil,
                when: when,
                allowFailure: allowFailure,
                timeoutSeconds: job.timeout ?? fallback("timeout", self.defaults.timeout),
                tags: job.tags ?? fallback("tags", self.defaults.tags) ?? [],
                image: job.image ?? fallback("image", self.defaults.image),
                interruptible: interruptible ?? fallback("interruptible", self.defaults.interruptible) ?? false,
                allowFailureExitCodes: job.allowFailureExitCodes ?? [],
                retry: job.retry ?? fallback("retry", self.defaults.retry),
                resourceGroup: job.resourceGroup,
                coverage: job.coverage,
                nodeIndex: instance.index,
                nodeTotal: instance.total
            )
            definition.idTokens = job.idTokens ?? []
            definition.startInSeconds = when == .delayed ? startIn : nil
            definition.permissions = job.permissions ?? fallback("permissions", self.defaults.permissions)
            definition.services = job.services ?? fallback("services", self.defaults.services) ?? []
            definition.caches = (job.cache ?? fallback("cache", self.defaults.cache) ?? []).map { $0.resolved(commits: facts.fileCommits) }
            definition.hooks = job.hooks ?? fallback("hooks", self.defaults.hooks)
            if var environment = job.environment {
                // The name and URL are expanded with the predefined and the YAML variables only: never with CI/CD settings or
                // pipeline variables, which may be secrets and would show in the environments list to every Reporter (GitLab
                // expands those too; here security wins).
                var scope = context.predefined
                for variable in inherited + own + ruleVariables { scope[variable.key] = variable.value }
                environment.name = CIVariableExpansion.expand(environment.name, scope)
                environment.url = environment.url.map { CIVariableExpansion.expand($0, scope) }
                environment.onStop = environment.onStop.map { stop in instancesOf[stop]?.count == 1 ? instancesOf[stop]?.first?.name ?? stop : stop }
                guard EnvironmentName.isValid(environment.name) else {
                    throw CIConfigError("jobs:\(instance.name) environment name \(EnvironmentName.invalidMessage) once its variables are expanded")
                }
                if let url = environment.url, !url.isEmpty, !EnvironmentName.isWebURL(url) {
                    throw CIConfigError("jobs:\(instance.name) environment url must be a valid url once its variables are expanded")
                }
                definition.environment = environment
            }
            if let trigger = job.trigger {
                // A bridge runs nothing itself: no defaults reach it (GitLab's bridges inherit none), only its trigger.
                definition = JobDefinition(
                    name: definition.name, stage: definition.stage, script: [], variables: definition.variables, when: definition.when,
                    allowFailure: definition.allowFailure, resourceGroup: definition.resourceGroup, nodeIndex: definition.nodeIndex,
                    nodeTotal: definition.nodeTotal)
                definition.startInSeconds = when == .delayed ? startIn : nil
                // As environment names: predefined and YAML variables only, so no CI/CD variable (a secret, perhaps) is stored
                // expanded in the job's definition.
                var scope = context.predefined
                for variable in inherited + own + ruleVariables { scope[variable.key] = variable.value }
                definition.trigger = trigger.expanded(scope)
            }
            switch inherit.variables {
            case .all: break
            case .none: definition.inheritedGlobalVariables = []
            case .only(let names): definition.inheritedGlobalVariables = names
            }
            chosen.append((instance, definition, needs))
            if chosen.count > limits.maximumJobs { throw limits.tooManyJobs }
        }
        guard !chosen.isEmpty else { throw .filteredByRules }

        let created = Set(chosen.map(\.definition.name))
        var definitions: [JobDefinition] = []
        var relations = 0
        for (instance, var definition, needs) in chosen {
            // A need or dependency on a parallel job means all its instances, or those a `parallel: matrix` names.
            func names(of need: String, matrix: [[CIVariable]]?) -> [String] {
                guard let all = instancesOf[need] else { return [need] }
                guard let matrix else { return all.map(\.name) }
                func key(_ row: [CIVariable]) -> Set<String> { Set(row.map { "\($0.key)=\($0.value)" }) }
                let wanted = Set(matrix.map(key))
                return all.filter { wanted.contains(key($0.matrix)) }.map(\.name)
            }
            if let needs {
                // GitLab counts a need on a parallel job as one per instance it names (a matrix names one per row, at most).
                let listed = needs.reduce(0) { total, need in
                    guard let all = instancesOf[need.name] else { return total + 1 }
                    return total + min(all.count, need.matrix?.count ?? all.count)
                }
                if listed > limits.maximumNeeds { throw limits.tooManyNeeds(job: instance.name, listed: listed) }
                var resolved: [(name: String, artifacts: Bool)] = []
                for need in needs {
                    for name in names(of: need.name, matrix: need.matrix) {
                        if created.contains(name) {
                            resolved.append((name, need.artifacts))
                        } else if !need.optional {
                            throw CIConfigError(
                                "'\(instance.name)' job needs '\(name)' job, but '\(name)' does not exist in the pipeline. This might be because of the only, "
                                    + "except, or rules keywords. To need a job that sometimes does not exist in the pipeline, use needs:optional.")
                        }
                    }
                }
                definition.needs = resolved.map(\.name)
                definition.dependencies = resolved.filter(\.artifacts).map(\.name)
            }
            if let dependencies = instance.job.dependencies {
                relations += dependencies.reduce(0) { $0 + (instancesOf[$1]?.count ?? 1) }
                if relations > limits.maximumRelations {
                    throw CIConfigError("\(instance.name): dependencies name too many jobs across the pipeline (at most \(limits.maximumRelations) in all)")
                }
                definition.dependencies = dependencies.flatMap { names(of: $0, matrix: nil) }.filter(created.contains)
            }
            definitions.append(definition)
        }
        // `on_stop` is checked again once names are expanded: a stop job must stop the very environment it is named for, or
        // stopping one environment would run a job deploying to (and holding the variables of) another.
        let environmentOf = Dictionary(definitions.map { ($0.name, $0.environment) }, uniquingKeysWith: { first, _ in first })
        for definition in definitions {
            guard let environment = definition.environment, let stop = environment.onStop, let stopJob = environmentOf[stop] else { continue }
            guard let stopEnvironment = stopJob, stopEnvironment.name.utf8.elementsEqual(environment.name.utf8), stopEnvironment.action == .stop else {
                throw CIConfigError("\(definition.name) job: on_stop job \(stop) have different environment name once its variables are expanded")
            }
        }
        let name = workflowName.map { CIVariableExpansion.expand($0, scope(globals)) }
        return PipelineDefinition(stages: stages, variables: globals, jobs: definitions, name: name)
    }
}

extension CIReadPolicy {
    /// `except:` excludes the job when any kind it gives is satisfied (GitLab's `except_specs.none?`).
    func isExcluding(variables: [String: String], facts: CIRuleFacts) throws(CIConfigError) -> Bool {
        if let refs, try Self.any(refs, { ref throws(CIConfigError) in try Self.refMatches(ref, facts: facts) }) { return true }
        if let expressions = self.variables, try Self.any(expressions, { expression throws(CIConfigError) in try expression.isTrue(variables: variables, budget: facts.budget) }) { return true }
        if let changes {
            // With nothing to compare, `changes` is true, so `except: changes` excludes, as GitLab.
            guard let changed = facts.context.changedPaths, !facts.context.isNewRefOrNoPush else { return true }
            let globs = changes.map { CIGlob(CIVariableExpansion.expand($0, variables)) }
            if changed.contains(where: { path in globs.contains { $0.matches(path) } }) { return true }
        }
        return false
    }
}

extension PipelineDefinition {
    /// The variables a job's runner receives from the file: the global ones `inherit:variables` lets through, then the
    /// job's own, which win.
    public func yamlVariables(of job: JobDefinition) -> [CIVariable] {
        let inherited = job.inheritedGlobalVariables.map { names in variables.filter { names.contains($0.key) } } ?? variables
        return inherited + job.variables
    }
}
