/// Reads the validated entries of a `.gitlab-ci.yml` mapping, collecting GitLab's entry errors.
struct CIConfigReader {
    private(set) var errors: [String] = []

    /// Root keys that can never name a job.
    static let reservedKeys: Set<String> = [
        "include", "before_script", "image", "services", "after_script", "variables", "stages", "cache",
    ]
    static let rootKeys: Set<String> = reservedKeys.union(["default", "workflow"])
    static let defaultStages = ["build", "test", "deploy"]

    /// An entry error as GitLab's validator words it: location first, all lower case.
    mutating func fail(_ location: String, _ message: String) {
        errors.append("\(location) \(message)".lowercased())
    }

    /// An error GitLab reports without a location or lower-casing.
    mutating func failVerbatim(_ message: String) {
        errors.append(message)
    }

    mutating func readRoot(_ root: YAMLMapping) -> CIReadConfig? {
        var jobEntries: [(name: String, value: YAMLValue)] = []
        var rootEntries = YAMLMapping()
        for entry in root.entries {
            if Self.reservedKeys.contains(entry.key) {
                rootEntries[entry.key] = entry.value
            } else if Self.rootKeys.contains(entry.key) && CIJobKind(name: entry.key, value: entry.value) == nil {
                rootEntries[entry.key] = entry.value
            } else {
                jobEntries.append((entry.key, entry.value))
            }
        }

        // `include:` has been expanded before the reader runs (CIInclude); what is left here is already merged.
        let workflow = rootEntries.present("workflow").flatMap { readWorkflow($0) }

        var defaults = readDefault(rootEntries.present("default"))
        inherit(&defaults.beforeScript, fromTopLevel: rootEntries.present("before_script"), key: "before_script")
        inherit(&defaults.afterScript, fromTopLevel: rootEntries.present("after_script"), key: "after_script")
        // The deprecated top-level `image`, `services` and `cache` act as `default:` entries, never both.
        if let image = rootEntries.present("image") {
            let value = readImage(image, location: "image")
            if defaults.image != nil { failVerbatim("image is defined in top-level and `default:` entry") } else { defaults.image = value }
        }
        if let services = rootEntries.present("services") {
            let value = readServices(services, location: "services")
            if defaults.services != nil { failVerbatim("services is defined in top-level and `default:` entry") } else { defaults.services = value }
        }
        if let cache = rootEntries.present("cache") {
            let value = readCaches(cache, location: "cache")
            if defaults.cache != nil { failVerbatim("cache is defined in top-level and `default:` entry") } else { defaults.cache = value }
        }

        let variables =
            rootEntries.present("variables").map {
                readVariables($0, location: "variables", allowedData: ["value", "description", "expand", "options"])
            } ?? []
        let stages = readStages(rootEntries.present("stages"))

        var jobs: [CIReadJob] = []
        var hasVisibleJob = false
        for (name, value) in jobEntries {
            switch CIJobKind(name: name, value: value) {
            case .hidden:
                continue
            case .job(let mapping):
                hasVisibleJob = true
                if let job = readJob(name: name, mapping) { jobs.append(job) }
            case nil:
                // GitLab's validator rewrites spaces in such names to underscores in this one message.
                var shown = name.lowercased()
                if !shown.isEmpty, shown.allSatisfy({ ("a"..."z").contains($0) || $0.isWhitespace }) {
                    shown = String(shown.map { $0 == " " ? "_" : $0 })
                }
                fail("jobs", "\(shown) config should implement the script:, run:, or trigger: keyword")
            }
        }
        if !hasVisibleJob { fail("jobs", "config should contain at least one visible job") }

        guard errors.isEmpty else { return nil }
        return CIReadConfig(
            stages: stages, variables: variables, defaults: defaults, jobs: jobs, workflowRules: workflow?.rules, workflowName: workflow?.name)
    }

    private mutating func readWorkflow(_ value: YAMLValue) -> (rules: [CIReadRule]?, name: String?)? {
        guard case .mapping(let mapping) = value else {
            fail("workflow", "config should be a hash")
            return nil
        }
        checkKeys(mapping, location: "workflow", known: ["rules", "name", "auto_cancel"], unsupported: ["auto_cancel"])
        var name: String?
        if let text = mapping.present("name") {
            if let value = text.stringValue, (1...255).contains(value.count) {
                name = value
            } else {
                fail("workflow", "name is too long (maximum is 255 characters)")
            }
        }
        let rules = mapping.present("rules").flatMap {
            readRules($0, location: "workflow:rules", keys: Self.workflowRuleKeys, whens: Self.workflowRuleWhens)
        }
        return (rules, name)
    }

    private mutating func inherit(_ slot: inout [String]?, fromTopLevel value: YAMLValue?, key: String) {
        guard let value else { return }
        let commands = readCommands(value, location: key)
        if slot != nil {
            failVerbatim("\(key) is defined in top-level and `default:` entry")
        } else {
            slot = commands
        }
    }

    private mutating func readStages(_ value: YAMLValue?) -> [String] {
        var listed = Self.defaultStages
        if let value {
            if let strings = value.strings {
                listed = strings
            } else {
                fail("stages", "config should be an array of strings")
            }
        }
        // GitLab always runs `.pre` first and `.post` last, wherever they were listed.
        var stages = [".pre"]
        for stage in listed where stage != ".pre" && stage != ".post" && !stages.contains(stage) {
            stages.append(stage)
        }
        stages.append(".post")
        return stages
    }

    private mutating func readDefault(_ value: YAMLValue?) -> CIReadDefaults {
        var defaults = CIReadDefaults()
        guard let value else { return defaults }
        guard case .mapping(let mapping) = value else {
            fail("default", "config should be a hash")
            return defaults
        }
        checkKeys(
            mapping,
            location: "default",
            known: [
                "before_script", "after_script", "hooks", "cache", "image", "services", "interruptible", "timeout", "retry",
                "tags", "artifacts", "id_tokens", "permissions",
            ],
            unsupported: ["id_tokens"]
        )
        defaults.beforeScript = mapping.present("before_script").map { readCommands($0, location: "default:before_script") }
        defaults.afterScript = mapping.present("after_script").map { readCommands($0, location: "default:after_script") }
        defaults.image = mapping.present("image").flatMap { readImage($0, location: "default:image") }
        defaults.services = mapping.present("services").flatMap { readServices($0, location: "default:services") }
        defaults.cache = mapping.present("cache").flatMap { readCaches($0, location: "default:cache") }
        defaults.hooks = mapping.present("hooks").flatMap { readHooks($0, location: "default:hooks") }
        defaults.interruptible = mapping.present("interruptible").flatMap { readBoolean($0, location: "default:interruptible") }
        defaults.timeout = mapping.present("timeout").flatMap { readTimeout($0, location: "default:timeout") }
        defaults.tags = mapping.present("tags").flatMap { readTags($0, location: "default:tags") }
        defaults.artifacts = mapping.present("artifacts").flatMap { readArtifacts($0, location: "default:artifacts") }
        defaults.retry = mapping.present("retry").flatMap { readRetry($0, location: "default:retry") }
        defaults.permissions = mapping.present("permissions").flatMap { readPermissions($0, location: "default:permissions") }
        return defaults
    }

    /// GitLab's "contains unknown keys", plus Latchkey's refusal of keys GitLab knows but we cannot honour.
    mutating func checkKeys(_ mapping: YAMLMapping, location: String, known: Set<String>, unsupported: Set<String>) {
        let unknown = mapping.keys.filter { !known.contains($0) }
        if !unknown.isEmpty {
            fail(location, "config contains unknown keys: \(unknown.joined(separator: ", "))")
        }
        let refused = mapping.keys.filter { unsupported.contains($0) }
        if !refused.isEmpty {
            fail(location, "config contains keys Latchkey does not support: \(refused.joined(separator: ", "))")
        }
    }
}

/// How GitLab's `Jobs.find_type` classifies a non-reserved root key.
enum CIJobKind: Equatable {
    case hidden
    case job(YAMLMapping)

    init?(name: String, value: YAMLValue) {
        if name.hasPrefix(".") {
            self = .hidden
        } else if case .mapping(let mapping) = value, mapping.has("script") || mapping.has("run") || mapping.has("trigger") {
            self = .job(mapping)
        } else {
            return nil
        }
    }
}

/// `default:` and the deprecated top-level keywords, applied to jobs that don't set their own.
struct CIReadDefaults {
    var beforeScript: [String]?
    var afterScript: [String]?
    var image: CIImage?
    var services: [CIImage]?
    var cache: [CIReadCache]?
    var hooks: CIHooks?
    var interruptible: Bool?
    var timeout: Int?
    var tags: [String]?
    var artifacts: ArtifactsDefinition?
    var retry: JobRetry?
    var permissions: JobTokenPermissions?
}

/// A job's `needs:` item.
struct CIReadNeed: Equatable {
    var name: String
    var artifacts: Bool
    var optional: Bool
    /// `parallel: matrix:` picking instances of a matrix job.
    var matrix: [[CIVariable]]?
}

/// A job as written, before defaults are applied.
struct CIReadJob {
    var name: String
    var stage: String
    var script: [String]
    var beforeScript: [String]?
    var afterScript: [String]?
    var variables: [CIVariable]
    var artifacts: ArtifactsDefinition?
    var dependencies: [String]?
    var needs: [CIReadNeed]?
    var when: JobWhen
    var allowFailure: Bool?
    var timeout: Int?
    var tags: [String]?
    var image: CIImage?
    var interruptible: Bool?
    var services: [CIImage]?
    var cache: [CIReadCache]?
    var hooks: CIHooks?
    var rules: [CIReadRule]?
    var only: CIReadPolicy?
    var except: CIReadPolicy?
    var parallel: CIReadParallel?
    var allowFailureExitCodes: [Int]?
    var startInSeconds: Int?
    var retry: JobRetry?
    var resourceGroup: String?
    var coverage: String?
    var inherit: CIReadInherit?
    var environment: CIEnvironment?
    var idTokens: [IDTokenDefinition]?
    var permissions: JobTokenPermissions?
    /// `trigger:` of a bridge job (which has no script).
    var trigger: CITrigger?
}

/// The whole file once every entry is valid.
struct CIReadConfig {
    var stages: [String]
    var variables: [CIVariable]
    var defaults: CIReadDefaults
    var jobs: [CIReadJob]
    var workflowRules: [CIReadRule]?
    var workflowName: String?
}
