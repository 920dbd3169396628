import Testing

@testable import LatchkeyCore

/// GitLab's `ci_pipeline_size` and `ci_needs_size_limit`, bounded by default: a small file cannot expand to millions of jobs.
@Suite("Pipeline size limits")
struct PipelineLimitsTests {
    static func parse(_ yaml: String, limits: CIPipelineLimits = .default) async throws(CIConfigError) -> PipelineDefinition {
        var context = CIPipelineContext()
        context.limits = limits
        return try await CIConfigParser.parse(yaml, context: context, files: nil)
    }

    static func messages(_ yaml: String, limits: CIPipelineLimits = .default) async -> [String] {
        do {
            _ = try await parse(yaml, limits: limits)
            return []
        } catch {
            return error.messages
        }
    }

    @Test("more jobs than the limit once parallel is expanded fail with GitLab's message; at the limit is fine")
    func pipelineSize() async throws {
        let limits = CIPipelineLimits(maximumJobs: 400, maximumNeeds: 50)
        let atLimit = "a: {parallel: 200, script: x}\nb: {parallel: 200, script: x}\n"
        #expect(try await Self.parse(atLimit, limits: limits).jobs.count == 400)
        let over = atLimit + "c: {script: x}\n"
        #expect(
            await Self.messages(over, limits: limits) == [
                "The number of jobs has exceeded the limit of 400. Try splitting the configuration with parent-child-pipelines "
                    + "https://docs.gitlab.com/ee/ci/debugging.html#pipeline-with-many-jobs-fails-to-start"
            ])
        // Rules choose first: jobs they drop do not count.
        let filtered = over + "d: {parallel: 200, script: x, rules: [{if: '$NEVER == \"set\"'}]}\n"
        #expect(await Self.messages(filtered, limits: limits).first?.hasPrefix("The number of jobs has exceeded the limit of 400.") == true)
        let dropped = atLimit + "d: {parallel: 200, script: x, rules: [{if: '$NEVER == \"set\"'}]}\n"
        #expect(try await Self.parse(dropped, limits: limits).jobs.count == 400)
    }

    @Test("a 70 KB file of parallel jobs is refused before it is expanded (it once made 400,000 jobs and 1.6 GB)")
    func hostileExpansion() async throws {
        var yaml = ""
        for index in 0..<2000 { yaml += "j\(index): {parallel: 200, script: x}\n" }
        #expect(await Self.messages(yaml).first?.hasPrefix("The number of jobs has exceeded the limit of 10000.") == true)
    }

    @Test("a need on a parallel job counts each instance; more than 50 fail with GitLab's message")
    func needsSize() async throws {
        let yaml = "build: {stage: build, parallel: 51, script: x}\ntest: {stage: test, needs: [build], script: x}\n"
        #expect(
            await Self.messages(yaml) == [
                "test: one job can only need 50 others, but you have listed 51. See needs keyword documentation for more details"
            ])
        let fifty = "build: {stage: build, parallel: 50, script: x}\ntest: {stage: test, needs: [build], script: x}\n"
        #expect(try await Self.parse(fifty).jobs.first { $0.name == "test" }?.needs?.count == 50)
        // A matrix need names one instance per row.
        let matrix = """
            build: {stage: build, parallel: {matrix: [{OS: [a, b, c]}]}, script: x}
            test: {stage: test, needs: [{job: build, parallel: {matrix: [{OS: [a]}]}}], script: x}
            """
        #expect(try await Self.parse(matrix).jobs.first { $0.name == "test" }?.needs == ["build: [a]"])
        let raised = CIPipelineLimits(maximumJobs: 10_000, maximumNeeds: 100)
        #expect(try await Self.parse(yaml, limits: raised).jobs.first { $0.name == "test" }?.needs?.count == 51)
    }

    @Test("dependencies on every instance of many parallel jobs are bounded across the pipeline")
    func dependencyBudget() async throws {
        let limits = CIPipelineLimits(maximumJobs: 5_000, maximumNeeds: 50)
        var yaml = "stages: [build, test]\n"
        for index in 0..<20 { yaml += "b\(index): {stage: build, parallel: 200, script: x}\n" }
        let all = (0..<20).map { "b\($0)" }.joined(separator: ", ")
        yaml += "t: {stage: test, parallel: 200, dependencies: [\(all)], script: x}\n"
        // 200 instances × 4,000 dependencies = 800,000 entries, past 5,000 × 50.
        let messages = await Self.messages(yaml, limits: limits)
        #expect(messages.first?.contains("dependencies name too many jobs") == true, "\(messages)")
    }
}
