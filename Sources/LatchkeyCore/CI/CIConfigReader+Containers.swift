extension CIConfigReader {
    /// GitLab's `Entry::Cache` `MULTIPLE_CACHE_LIMIT`.
    static let maxCaches = 4
    /// `cache:fallback_keys` and `cache:key:files` limits.
    static let maxFallbackKeys = 5
    static let maxCacheKeyFiles = 2
    static let pullPolicies = ["always", "never", "if-not-present"]

    /// `image:` or one `services:` entry (`Entry::Image`, `Entry::Service`): a name, or a hash with GitLab's keys.
    mutating func readImage(_ value: YAMLValue, location: String, isService: Bool = false) -> CIImage? {
        switch value {
        case .string(let name):
            guard !name.allSatisfy(\.isWhitespace) else {
                fail(location, "name can't be blank")
                return nil
            }
            return CIImage(name: name)
        case .mapping(let mapping):
            let errorsBefore = errors.count
            var known: Set<String> = ["name", "entrypoint", "pull_policy", "docker", "kubernetes"]
            if isService { known.formUnion(["alias", "command", "variables"]) }
            // `ports` is only for the Web IDE's terminal configuration, never `.gitlab-ci.yml`.
            if mapping.has("ports") { fail(location, "config contains disallowed keys: ports") }
            let unknown = mapping.keys.filter { !known.contains($0) && $0 != "ports" }
            if !unknown.isEmpty { fail(location, "config contains unknown keys: \(unknown.joined(separator: ", "))") }
            var image = CIImage(name: "")
            switch mapping.present("name") {
            case .string(let name)? where !name.allSatisfy(\.isWhitespace): image.name = name
            case .string?, nil: fail(location, "name can't be blank")
            default: fail(location, "name should be a string")
            }
            if let entrypoint = mapping.present("entrypoint") {
                if let strings = entrypoint.strings { image.entrypoint = strings } else { fail(location, "entrypoint should be an array of strings") }
            }
            if let policy = mapping.present("pull_policy") {
                image.pullPolicy = readPullPolicy(policy, location: "\(location):pull_policy")
            }
            if let docker = mapping.present("docker") {
                guard case .mapping(let options) = docker else {
                    fail(location, "executor opts '/docker' must be a valid 'object'")
                    return nil
                }
                for key in options.keys where key != "platform" && key != "user" {
                    fail(location, "executor opts '/docker/\(key)' must be a valid 'schema'")
                }
                if let platform = options.present("platform") {
                    if let text = platform.stringValue { image.dockerPlatform = text } else { fail(location, "executor opts '/docker/platform' must be a valid 'string'") }
                }
                if let user = options.present("user") {
                    if let text = user.scalarText { image.dockerUser = text } else { fail(location, "executor opts '/docker/user' must be a valid 'string'") }
                }
            }
            if let kubernetes = mapping.present("kubernetes") {
                guard case .mapping(let options) = kubernetes else {
                    fail(location, "executor opts '/kubernetes' must be a valid 'object'")
                    return nil
                }
                for key in options.keys where key != "user" {
                    fail(location, "executor opts '/kubernetes/\(key)' must be a valid 'schema'")
                }
                if let user = options.present("user") {
                    if let text = user.scalarText { image.kubernetesUser = text } else { fail(location, "executor opts '/kubernetes/user' must be a valid 'string'") }
                }
            }
            if isService {
                if let alias = mapping.present("alias") {
                    if let text = alias.stringValue { image.alias = text } else { fail(location, "alias should be a string") }
                }
                if let command = mapping.present("command") {
                    let lines = readCommands(command, location: "\(location):command")
                    image.command = lines
                }
                if let variables = mapping.present("variables") {
                    image.variables = readVariables(variables, location: "\(location):variables", allowedData: ["value", "expand"])
                }
            }
            return errors.count == errorsBefore ? image : nil
        default:
            fail(location, "config should be a hash or a string")
            return nil
        }
    }

    /// `services:` (`Entry::Services`): an array of names or hashes.
    mutating func readServices(_ value: YAMLValue, location: String) -> [CIImage]? {
        guard case .sequence(let items) = value else {
            fail(location, "config should be a array")
            return nil
        }
        var services: [CIImage] = []
        let errorsBefore = errors.count
        for item in items {
            if let service = readImage(item, location: "\(location):service", isService: true) { services.append(service) }
        }
        return errors.count == errorsBefore ? services : nil
    }

    /// `pull_policy`: one policy or a non-empty array of them.
    private mutating func readPullPolicy(_ value: YAMLValue, location: String) -> [String]? {
        let policies: [String]
        if let text = value.stringValue {
            policies = [text]
        } else if let list = value.strings {
            guard !list.isEmpty else {
                fail(location, "config can't be blank")
                return nil
            }
            policies = list
        } else {
            fail(location, "config should be an array of strings or a string")
            return nil
        }
        let invalid = policies.filter { !Self.pullPolicies.contains($0) }
        guard invalid.isEmpty else {
            if value.stringValue != nil {
                fail(location, "config is not included in the list")
            } else {
                fail(location, "config contains invalid values: \(invalid.joined(separator: ", "))")
            }
            return nil
        }
        return policies
    }

    /// `cache:` (`Entry::Caches`): a hash, or an array of at most four hashes.
    mutating func readCaches(_ value: YAMLValue, location: String) -> [CIReadCache]? {
        let entries: [YAMLValue]
        switch value {
        case .mapping: entries = [value]
        case .sequence(let items):
            guard items.count <= Self.maxCaches else {
                fail(location, "config no more than \(Self.maxCaches) caches can be created")
                return nil
            }
            entries = items
        default:
            fail(location, "config can only be a hash or an array")
            return nil
        }
        let errorsBefore = errors.count
        var caches: [CIReadCache] = []
        for entry in entries {
            if let cache = readCache(entry, location: location) { caches.append(cache) }
        }
        return errors.count == errorsBefore ? caches : nil
    }

    private mutating func readCache(_ value: YAMLValue, location: String) -> CIReadCache? {
        guard case .mapping(let mapping) = value else {
            fail(location, "config should be a hash")
            return nil
        }
        checkKeys(mapping, location: location, known: ["key", "untracked", "paths", "when", "policy", "unprotect", "fallback_keys"], unsupported: [])
        var cache = CIReadCache()
        if let key = mapping.present("key") {
            switch key {
            case .string, .int:
                let text = key.scalarText ?? ""
                if let problem = Self.cacheKeyProblem(text) { fail("\(location):key", problem) } else { cache.key = text }
            case .mapping(let fields):
                checkKeys(fields, location: "\(location):key", known: ["files", "prefix"], unsupported: [])
                guard let files = fields.present("files")?.strings, !files.isEmpty else {
                    fail("\(location):key:files", "config should be an array of strings")
                    return nil
                }
                guard files.count <= Self.maxCacheKeyFiles else {
                    fail("\(location):key:files", "config has too many items (maximum is \(Self.maxCacheKeyFiles))")
                    return nil
                }
                cache.keyFiles = files
                if let prefix = fields.present("prefix") {
                    if let text = prefix.scalarText, Self.cacheKeyProblem(text) == nil {
                        cache.keyPrefix = text
                    } else if let text = prefix.scalarText, let problem = Self.cacheKeyProblem(text) {
                        fail("\(location):key:prefix", problem)
                    } else {
                        fail("\(location):key:prefix", "config should be a string or symbol")
                    }
                }
            default:
                fail("\(location):key", "config should be a hash, a string or a symbol")
            }
        }
        if let paths = mapping.present("paths") {
            if let strings = paths.strings { cache.entry.paths = strings } else { fail("\(location):paths", "config should be an array of strings") }
        }
        for flag in ["untracked", "unprotect"] {
            guard let value = mapping.present(flag) else { continue }
            guard case .bool(let on) = value else {
                fail("\(location):\(flag)", "config should be a boolean value")
                continue
            }
            if flag == "untracked" { cache.entry.untracked = on } else { cache.entry.unprotect = on }
        }
        if let policy = mapping.present("policy") {
            // GitLab lets a variable choose the policy (`policy: $CACHE_POLICY`); the runner expands it.
            let isVariable = policy.stringValue.map { $0.hasPrefix("$") && $0.count > 1 && $0.count <= 256 } ?? false
            if let text = policy.stringValue, ["pull-push", "push", "pull"].contains(text) || isVariable {
                cache.entry.policy = text
            } else {
                fail(location, "policy should be a variable or one of: pull-push, push, pull")
            }
        }
        if let when = mapping.present("when") {
            if let text = when.stringValue, ["on_success", "on_failure", "always"].contains(text) {
                cache.entry.when = text
            } else {
                fail(location, "when should be one of: on_success, on_failure, always")
            }
        }
        if let keys = mapping.present("fallback_keys") {
            if let strings = keys.strings {
                if strings.count > Self.maxFallbackKeys {
                    fail(location, "fallback keys has to many entries (maximum \(Self.maxFallbackKeys))")
                } else {
                    cache.entry.fallbackKeys = strings
                }
            } else {
                fail("\(location):fallback_keys", "config should be an array of strings")
            }
        }
        return cache
    }

    /// Why a cache key or prefix is refused (`Entry::Key`): it names a directory on the runner.
    static func cacheKeyProblem(_ key: String) -> String? {
        let lowered = key.lowercased()
        if key.contains("/") || lowered.contains("%2f") { return "config cannot contain the \"/\" character" }
        let decoded = lowered.replacingOccurrences(of: "%2e", with: ".")
        if decoded == "." || decoded == ".." { return "config cannot be \".\" or \"..\"" }
        return nil
    }

    /// `hooks:` (`Entry::Hooks`): only `pre_get_sources_script`.
    mutating func readHooks(_ value: YAMLValue, location: String) -> CIHooks? {
        guard case .mapping(let mapping) = value else {
            fail(location, "config should be a hash")
            return nil
        }
        checkKeys(mapping, location: location, known: ["pre_get_sources_script"], unsupported: [])
        guard let script = mapping.present("pre_get_sources_script") else { return nil }
        return CIHooks(preGetSourcesScript: readCommands(script, location: "\(location):pre_get_sources_script"))
    }
}

/// A `cache:` entry as written: its key may still depend on the commit's files.
struct CIReadCache: Equatable {
    var entry = CICache()
    var key: String?
    var keyFiles: [String]?
    var keyPrefix: String?
}
