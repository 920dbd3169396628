extension CIConfigReader {
    /// Every key GitLab accepts on a job (`Job::ALLOWED_KEYS`, `Processable`, bridges and EE).
    static let knownJobKeys: Set<String> = [
        "tags", "script", "image", "services", "start_in", "artifacts", "cache", "dependencies", "before_script",
        "after_script", "hooks", "coverage", "retry", "parallel", "timeout", "inputs", "release", "id_tokens", "publish",
        "pages", "manual_confirmation", "run", "extends", "stage", "only", "except", "rules", "variables", "inherit",
        "allow_failure", "when", "needs", "resource_group", "environment", "interruptible", "secrets", "trigger",
        "identity", "dast_configuration", "permissions",
    ]

    /// Keys whose meaning Latchkey cannot honour; ignoring them would run something other than what was asked.
    static let unsupportedJobKeys: Set<String> = [
        "inputs", "release", "publish", "pages", "run", "secrets", "identity", "dast_configuration",
    ]

    static let jobWhens = ["on_success", "on_failure", "always", "manual", "delayed"]

    mutating func readJob(name: String, _ mapping: YAMLMapping) -> CIReadJob? {
        let location = "jobs:\(name)"
        let errorsBefore = errors.count
        if name.count > 255 { fail(location, "name is too long (maximum is 255 characters)") }
        let isBridge = Self.isBridge(mapping)
        if isBridge {
            checkKeys(mapping, location: location, known: Self.bridgeKeys, unsupported: Self.unsupportedBridgeKeys)
        } else {
            // A job with a script is a build, where `trigger` is an unknown key (GitLab's `Job::ALLOWED_KEYS`).
            checkKeys(mapping, location: location, known: Self.knownJobKeys.subtracting(["trigger"]), unsupported: Self.unsupportedJobKeys)
        }

        let script = mapping.present("script").map { readCommands($0, location: "\(location):script") } ?? []
        if mapping.has("script"), mapping.present("script")?.isBlank ?? true {
            fail(location, "script can't be blank")
        }

        let rules = mapping.present("rules").flatMap {
            readRules($0, location: "\(location):rules", keys: Self.jobRuleKeys, whens: Self.jobRuleWhens)
        }
        if rules != nil {
            // GitLab's `disallowed_keys` with `ignore_nil`: these cannot be combined with `rules`.
            let clashing = ["only", "except", "start_in"].filter { mapping.present($0) != nil }
            if !clashing.isEmpty { fail(location, "config key may not be used with `rules`: \(clashing.joined(separator: ", "))") }
        }
        let when = readWhen(mapping.present("when"), location: location)
        if isBridge, let written = mapping.present("when")?.stringValue, Self.jobWhens.contains(written), !Self.bridgeWhens.contains(written) {
            fail(location, "when should be one of: \(Self.bridgeWhens.joined(separator: ", "))")
        }
        var startInSeconds: Int?
        if mapping.present("when")?.stringValue == "delayed" {
            if let startIn = mapping.present("start_in") {
                startInSeconds = readStartIn(startIn, location: location)
            } else {
                fail(location, "start in can't be blank")
            }
        } else if mapping.present("start_in") != nil, rules == nil {
            fail(location, "start in must be blank")
        }

        var allowFailure: Bool?
        var exitCodes: [Int]?
        switch mapping.present("allow_failure") {
        case nil: break
        case .bool(let flag)?: allowFailure = flag
        case .mapping(let criteria)?:
            checkKeys(criteria, location: "\(location):allow_failure", known: ["exit_codes"], unsupported: [])
            exitCodes = criteria.present("exit_codes").flatMap { readExitCodes($0, location: "\(location):allow_failure") }
            allowFailure = false
        default: fail(location, "allow failure should be a hash or a boolean value")
        }

        var dependencies: [String]?
        if let value = mapping.present("dependencies") {
            if let strings = value.strings { dependencies = strings } else { fail(location, "dependencies should be an array of strings") }
        }

        if let extends = mapping.present("extends"), extends.strings == nil, extends.stringValue == nil {
            fail(location, "extends should be an array of strings or a string")
        }

        var stage = "test"
        if let value = mapping.present("stage") {
            if let text = value.stringValue { stage = text } else { fail("\(location):stage", "config should be a string") }
        }

        let needs = mapping.present("needs").flatMap { readNeeds($0, location: "\(location):needs") }
        if let dependencies, let needs {
            let missing = dependencies.filter { dependency in !needs.contains { $0.name == dependency } }
            if !missing.isEmpty {
                fail(location, "dependencies the \(missing.joined(separator: ", ")) should be part of needs")
            }
        }

        var job = CIReadJob(
            name: name,
            stage: stage,
            script: script,
            beforeScript: mapping.present("before_script").map { readCommands($0, location: "\(location):before_script") },
            afterScript: mapping.present("after_script").map { readCommands($0, location: "\(location):after_script") },
            variables: mapping.present("variables").map {
                readVariables($0, location: "\(location):variables", allowedData: ["value", "expand"])
            } ?? [],
            artifacts: mapping.present("artifacts").flatMap { readArtifacts($0, location: "\(location):artifacts") },
            dependencies: dependencies,
            needs: needs,
            when: when ?? .onSuccess,
            allowFailure: allowFailure,
            timeout: mapping.present("timeout").flatMap { readTimeout($0, location: "\(location):timeout") },
            tags: mapping.present("tags").flatMap { readTags($0, location: "\(location):tags") },
            image: mapping.present("image").flatMap { readImage($0, location: "\(location):image") },
            interruptible: mapping.present("interruptible").flatMap { readBoolean($0, location: "\(location):interruptible") }
        )
        job.rules = rules
        job.services = mapping.present("services").flatMap { readServices($0, location: "\(location):services") }
        job.cache = mapping.present("cache").flatMap { readCaches($0, location: "\(location):cache") }
        job.hooks = mapping.present("hooks").flatMap { readHooks($0, location: "\(location):hooks") }
        job.only = mapping.present("only").flatMap { readPolicy($0, location: "\(location):only") }
        job.except = mapping.present("except").flatMap { readPolicy($0, location: "\(location):except") }
        job.parallel = mapping.present("parallel").flatMap { readParallel($0, location: "\(location):parallel") }
        job.allowFailureExitCodes = exitCodes
        job.startInSeconds = startInSeconds
        job.retry = mapping.present("retry").flatMap { readRetry($0, location: "\(location):retry") }
        if let group = mapping.present("resource_group") {
            if let text = group.stringValue { job.resourceGroup = text } else { fail(location, "resource group should be a string") }
        }
        if let coverage = mapping.present("coverage") {
            if let text = coverage.stringValue, CIPattern.literal(text) != nil {
                job.coverage = text
            } else {
                fail("\(location):coverage", "config must be a regular expression")
            }
        }
        job.environment = mapping.present("environment").flatMap { readEnvironment($0, location: "\(location):environment") }
        job.inherit = mapping.present("inherit").flatMap { readInherit($0, location: "\(location):inherit") }
        job.idTokens = mapping.present("id_tokens").flatMap { readIDTokens($0, location: "\(location):id_tokens") }
        job.permissions = mapping.present("permissions").flatMap { readPermissions($0, location: "\(location):permissions") }
        if isBridge {
            // `trigger:` with no value is GitLab's bridge without a trigger, never a script-less build.
            if let trigger = mapping.present("trigger") {
                job.trigger = readTrigger(trigger, location: "\(location):trigger")
            } else {
                fail(location, "config should contain either a trigger or a needs:pipeline")
            }
        }
        return errors.count == errorsBefore ? job : nil
    }

    /// `environment:` as a name or a mapping, with GitLab's messages (`Entry::Environment`). `kubernetes:` is refused: nothing
    /// here talks to a cluster, and ignoring it would deploy somewhere other than asked.
    mutating func readEnvironment(_ value: YAMLValue, location: String) -> CIEnvironment? {
        let mapping: YAMLMapping
        switch value {
        case .string(let name):
            var named = YAMLMapping()
            named["name"] = .string(name)
            mapping = named
        case .mapping(let given): mapping = given
        default:
            fail(location, "config should be a hash or a string")
            return nil
        }
        checkKeys(mapping, location: location, known: ["name", "url", "action", "on_stop", "auto_stop_in", "kubernetes", "deployment_tier"], unsupported: ["kubernetes"])
        let before = errors.count
        func string(_ key: String, _ label: String) -> String? {
            guard let value = mapping.present(key) else { return nil }
            guard let text = value.stringValue else {
                fail(location, "\(label) should be a string")
                return nil
            }
            return text
        }
        let name = string("name", "name") ?? ""
        if name.isEmpty {
            fail(location, "name can't be blank")
        } else if name.count > EnvironmentName.maximumLength {
            fail(location, "name is too long (maximum is 255 characters)")
        } else if !EnvironmentName.isValid(name) {
            fail(location, "name \(EnvironmentName.invalidMessage)")
        }
        let url = string("url", "url")
        if let url {
            if url.count > 255 { fail(location, "url is too long (maximum is 255 characters)") }
            // Variables may still stand for the scheme and host; the expanded URL is checked when the pipeline is made.
            else if !url.contains("$"), !EnvironmentName.isWebURL(url) { fail(location, "url must be a valid url") }
        }
        var action = CIEnvironment.Action.start
        if let raw = string("action", "action") {
            if let parsed = CIEnvironment.Action(rawValue: raw) { action = parsed } else { fail(location, "action should be start, stop, prepare, verify, or access") }
        }
        let autoStopIn = string("auto_stop_in", "auto stop in")
        if let autoStopIn, autoStopIn != "never", CIDuration.seconds(autoStopIn) == nil { fail(location, "auto stop in should be a duration") }
        var tier: EnvironmentTier?
        if let raw = string("deployment_tier", "deployment tier") {
            tier = EnvironmentTier(rawValue: raw)
            if tier == nil { fail(location, "deployment tier must be one of production, staging, testing, development, other") }
        }
        let onStop = string("on_stop", "on stop")
        guard errors.count == before else { return nil }
        return CIEnvironment(name: name, url: url, action: action, onStop: onStop, autoStopIn: autoStopIn, deploymentTier: tier)
    }

    /// `id_tokens: {NAME: {aud: string or [strings]}}`, with GitLab's messages.
    mutating func readIDTokens(_ value: YAMLValue, location: String) -> [IDTokenDefinition]? {
        guard case .mapping(let mapping) = value else {
            fail(location, "config should be a hash")
            return nil
        }
        var tokens: [IDTokenDefinition] = []
        for item in mapping.entries {
            let name = item.key, entry = item.value
            let entryLocation = "\(location):\(name)"
            let isVariableName =
                name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true && name.count <= 255
                && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
            guard isVariableName else {
                fail(entryLocation, "config should be a variable name")
                continue
            }
            guard case .mapping(let fields) = entry else {
                fail(entryLocation, "config should be a hash")
                continue
            }
            checkKeys(fields, location: entryLocation, known: ["aud"], unsupported: [])
            switch fields.present("aud") {
            case .string(let audience)? where !audience.isEmpty:
                tokens.append(IDTokenDefinition(name: name, audiences: [audience]))
            case .sequence(let items)? where !items.isEmpty && items.count <= 100:
                let audiences = items.compactMap(\.stringValue).filter { !$0.isEmpty }
                guard audiences.count == items.count else {
                    fail(entryLocation, "aud config should be a string or an array of strings")
                    continue
                }
                tokens.append(IDTokenDefinition(name: name, audiences: audiences))
            case nil:
                fail(entryLocation, "aud config can't be blank")
            default:
                fail(entryLocation, "aud config should be a string or an array of strings")
            }
        }
        return tokens
    }

    /// `permissions:` (Latchkey's, beyond GitLab): `{resource: none|read|write}`, `{}` for nothing, or `read-all` / `write-all`.
    mutating func readPermissions(_ value: YAMLValue, location: String) -> JobTokenPermissions? {
        switch value {
        case .string("read-all"): return .readOnly
        case .string("write-all"): return .all
        case .mapping(let mapping):
            var entries: [(String, String)] = []
            for entry in mapping.entries {
                guard let level = entry.value.stringValue else {
                    fail("\(location):\(entry.key.prefix(64))", "config should be a string: none, read or write")
                    return nil
                }
                entries.append((entry.key, level))
            }
            switch JobTokenPermissions.parse(entries) {
            case .success(let permissions): return permissions
            case .failure(let error):
                fail(location, error.message)
            }
            return nil
        default:
            fail(location, "config should be a hash, read-all or write-all")
            return nil
        }
    }

    private mutating func readWhen(_ value: YAMLValue?, location: String) -> JobWhen? {
        guard let value else { return nil }
        guard let text = value.stringValue else {
            fail(location, "when should be a string")
            fail(location, "when should be one of: \(Self.jobWhens.joined(separator: ", "))")
            return nil
        }
        guard Self.jobWhens.contains(text) else {
            fail(location, "when should be one of: \(Self.jobWhens.joined(separator: ", "))")
            return nil
        }
        guard let when = JobWhen(rawValue: text) else {
            fail(location, "when: \(text) is not supported by Latchkey")
            return nil
        }
        return when
    }

    mutating func readNeeds(_ value: YAMLValue, location: String) -> [CIReadNeed]? {
        let items: [YAMLValue]
        switch value {
        case .sequence(let list): items = list.flatMap { if case .sequence(let inner) = $0 { inner } else { [$0] } }
        case .mapping: items = [value]
        default:
            fail(location, "config can only be a hash or an array")
            return nil
        }
        var needs: [CIReadNeed] = []
        let needLocation = "\(location):need"
        for item in items {
            switch item {
            case .string(let name):
                if name.allSatisfy(\.isWhitespace) { fail(needLocation, "config can't be blank") }
                needs.append(CIReadNeed(name: name, artifacts: true, optional: false))
            case .mapping(let mapping) where mapping.has("job"):
                if mapping.has("pipeline") || mapping.has("project") || mapping.has("ref") {
                    fail(needLocation, "cross-pipeline and cross-project needs are not supported by Latchkey")
                    continue
                }
                checkKeys(mapping, location: needLocation, known: ["job", "artifacts", "optional", "parallel"], unsupported: [])
                guard let name = mapping.present("job")?.stringValue, !name.allSatisfy(\.isWhitespace) else {
                    fail(needLocation, "job should be a string")
                    continue
                }
                var artifacts = true
                var optional = false
                if let flag = mapping.present("artifacts") {
                    if case .bool(let value) = flag { artifacts = value } else { fail(needLocation, "artifacts should be a boolean value") }
                }
                if let flag = mapping.present("optional") {
                    if case .bool(let value) = flag { optional = value } else { fail(needLocation, "optional should be a boolean value") }
                }
                var need = CIReadNeed(name: name, artifacts: artifacts, optional: optional)
                if let parallel = mapping.present("parallel") {
                    if case .matrix(let rows)? = readParallel(parallel, location: "\(needLocation):parallel") {
                        need.matrix = rows
                    } else {
                        fail("\(needLocation):parallel", "config must be a matrix")
                    }
                }
                needs.append(need)
            default:
                // GitLab's UnknownStrategy message is not lower-cased.
                failVerbatim("\(needLocation) has an unsupported type")
            }
        }
        return needs
    }
}
