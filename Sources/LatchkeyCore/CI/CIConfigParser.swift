/// Parses the subset of `.gitlab-ci.yml` Latchkey runs.
///
/// Validation follows GitLab: entry errors (unknown keys, wrong types) are all collected and reported
/// together, lower-cased as GitLab does; the cross-job checks that follow (stages, needs, dependencies)
/// stop at the first error. Keywords Latchkey cannot honour (`include`, `workflow`, `rules`, `only`,
/// `trigger`, `parallel`, ...) are refused by name rather than ignored, so a pipeline never runs differently
/// from what the file asks; keywords that only tune a runner we don't have (`services`, `cache`,
/// `coverage`, `environment`, `resource_group`) are accepted and ignored.
public enum CIConfigParser {
    /// Parses `yaml`, or throws GitLab's error messages for it.
    public static func parse(_ yaml: String) throws(CIConfigError) -> PipelineDefinition {
        if yaml.allSatisfy(\.isWhitespace) {
            throw CIConfigError("Please provide content of .gitlab-ci.yml")
        }
        guard case .mapping(let document) = try YAMLLoader.load(yaml) else {
            throw CIConfigError("Invalid configuration format")
        }
        let root = try CIExtends.resolve(document)
        var reader = CIConfigReader()
        let config = reader.readRoot(root)
        guard reader.errors.isEmpty, let config else {
            throw CIConfigError(messages: reader.errors.isEmpty ? ["Invalid configuration format"] : reader.errors)
        }
        try validateRelations(config)
        return config.definition()
    }
}
