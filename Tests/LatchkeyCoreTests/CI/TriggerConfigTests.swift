import Foundation
import Testing

@testable import LatchkeyCore

@Suite("Reading trigger:")
struct TriggerConfigTests {
    @Test("a project path, a mapping with branch, strategy and forward, or include: a child pipeline; bridges take no defaults")
    func read() throws {
        let definition = try CIConfigParser.parse(
            """
            default: {before_script: [setup], image: alpine, tags: [docker]}
            variables: {TARGET: group/deploy, GLOBAL: g}
            simple:
              trigger: group/other
            deploy:
              stage: deploy
              variables: {ENVIRONMENT: production}
              trigger:
                project: $TARGET
                branch: stable-$CI_COMMIT_REF_NAME
                strategy: depend
                forward: {pipeline_variables: true, yaml_variables: false}
            child:
              trigger:
                include: [{local: ci/child.yml}, {artifact: generated.yml, job: generate}]
            build:
              script: [make]
            """)
        let jobs = Dictionary(uniqueKeysWithValues: definition.jobs.map { ($0.name, $0) })
        #expect(jobs["simple"]?.trigger == CITrigger(target: .project(path: "group/other", branch: nil)))
        #expect(
            jobs["deploy"]?.trigger
                == CITrigger(
                    target: .project(path: "group/deploy", branch: "stable-main"), dependsOnDownstream: true, forwardsYAMLVariables: false,
                    forwardsPipelineVariables: true))
        guard case .child(let configuration)? = jobs["child"]?.trigger?.target else {
            Issue.record("child is not a child trigger")
            return
        }
        #expect(configuration.contains("local: ci/child.yml") && configuration.contains("artifact: generated.yml") && configuration.hasPrefix("---\ninclude:"))
        // No default reaches a bridge; its variables (with the global ones) do, and it is never a runner's job.
        let bridge = try #require(jobs["deploy"])
        #expect(bridge.beforeScript.isEmpty && bridge.image == nil && bridge.tags.isEmpty && bridge.script.isEmpty)
        #expect(bridge.isBridge && jobs["build"]?.isBridge == false)
        #expect(jobs["build"]?.tags == ["docker"])
        // Stored definitions round-trip with their trigger.
        let decoded = try JSONDecoder().decode(JobDefinition.self, from: JSONEncoder().encode(bridge))
        #expect(decoded == bridge)
    }

    @Test(
        "a malformed trigger is refused with GitLab's words",
        arguments: [
            ("trigger: ''", "jobs:bridge:trigger config can't be blank"),
            ("trigger: [a]", "jobs:bridge:trigger has to be either a string or a hash"),
            ("trigger: {branch: main}", "jobs:bridge:trigger config must specify either project or include"),
            ("trigger: {project: a/b, strategy: mirror}", "jobs:bridge:trigger strategy should be depend"),
            ("trigger: {project: [a]}", "jobs:bridge:trigger project should be a string"),
            ("trigger: {project: a/b, branch: [x]}", "jobs:bridge:trigger branch should be a string"),
            ("trigger: {project: a/b, colour: red}", "jobs:bridge:trigger config contains unknown keys: colour"),
            ("trigger: {include: a.yml, branch: main}", "jobs:bridge:trigger config contains unknown keys: branch"),
            ("trigger: {include: [a.yml, b.yml, c.yml, d.yml]}", "jobs:bridge:trigger:include config is too long (maximum is 3 items)"),
            ("trigger: {project: a/b, forward: {yaml_variables: 1}}", "jobs:bridge:trigger:forward yaml variables should be a boolean value"),
            ("trigger: {project: a/b, forward: {secrets: true}}", "jobs:bridge:trigger:forward config contains unknown keys: secrets"),
            ("trigger: {project: a/b, inputs: {a: 1}}", "jobs:bridge:trigger config contains keys latchkey does not support: inputs"),
            ("trigger: a/b\n  tags: [x]", "jobs:bridge config contains unknown keys: tags"),
            ("trigger: a/b\n  when: delayed", "jobs:bridge when should be one of: on_success, on_failure, always, manual"),
            ("trigger: a/b\n  environment: production", "jobs:bridge config contains keys latchkey does not support: environment"),
            ("trigger:", "jobs:bridge config should contain either a trigger or a needs:pipeline"),
            ("trigger: ~", "jobs:bridge config should contain either a trigger or a needs:pipeline"),
        ])
    func refused(entry: String, message: String) {
        do {
            _ = try CIConfigParser.parse("bridge:\n  \(entry)\n")
            Issue.record("accepted \(entry)")
        } catch {
            #expect(error.messages.contains(message), "\(error.messages)")
        }
    }

    @Test("the project and branch are expanded with predefined and YAML variables only: no CI/CD variable is stored expanded")
    func expansionLeavesSecretsOut() async throws {
        let context = CIPipelineContext(overrides: ["DEPLOY_SECRET": "s3cr3t", "GROUP": "from-settings"])
        let definition = try await CIConfigParser.parse(
            "variables: {GROUP: ops}\nship: {trigger: {project: \"$GROUP/app-$DEPLOY_SECRET\", branch: \"$DEPLOY_SECRET\"}}\n", context: context, files: nil)
        #expect(definition.jobs.first?.trigger?.target == .project(path: "ops/app-", branch: ""))
        #expect(!String(decoding: try JSONEncoder().encode(definition), as: UTF8.self).contains("s3cr3t"))
    }

    @Test("forwarded variables: YAML ones expanded with predefined, YAML and pipeline variables; anything else kept as written")
    func downstreamVariables() {
        let trigger = CITrigger(target: .child(configuration: ""), forwardsPipelineVariables: true)
        let forwarded = trigger.downstreamVariables(
            yaml: [
                CIVariable(key: "A", value: "$CI_COMMIT_REF_NAME-$FROM_API"), CIVariable(key: "B", value: "${A}/x"),
                CIVariable(key: "SECRET_USE", value: "$PROJECT_SECRET"), CIVariable(key: "RAW", value: "$A", raw: true),
            ],
            pipeline: [CIVariable(key: "FROM_API", value: "api")], predefined: ["CI_COMMIT_REF_NAME": "main"])
        #expect(
            forwarded.map { "\($0.key)=\($0.value)" } == ["A=main-api", "B=main-api/x", "SECRET_USE=$PROJECT_SECRET", "RAW=$A", "FROM_API=api"])
        let none = CITrigger(target: .child(configuration: ""), forwardsYAMLVariables: false)
        #expect(none.downstreamVariables(yaml: [CIVariable(key: "A", value: "a")], pipeline: [CIVariable(key: "P", value: "p")], predefined: [:]).isEmpty)
    }

    @Test("GitLab's limits: child depth, trees too large, a multi-project trigger of its own project, loops")
    func hierarchy() {
        typealias Link = PipelineHierarchy.Link
        let push = Link(projectID: 1, ref: "main", source: .push)
        let child = Link(projectID: 1, ref: "main", source: .parentPipeline)
        #expect(PipelineHierarchy.structuralRefusal(isChild: true, sameProject: true, chain: [push], hierarchySize: 1) == nil)
        #expect(PipelineHierarchy.structuralRefusal(isChild: true, sameProject: true, chain: [child, push], hierarchySize: 2) == nil)
        #expect(PipelineHierarchy.structuralRefusal(isChild: true, sameProject: true, chain: [child, child, push], hierarchySize: 3) == .maximumDepth)
        #expect(PipelineHierarchy.structuralRefusal(isChild: false, sameProject: true, chain: [push], hierarchySize: 1) == .invalidTrigger)
        #expect(PipelineHierarchy.structuralRefusal(isChild: false, sameProject: false, chain: [push], hierarchySize: 1000) == .hierarchyTooLarge)
        // A → B → A is one cycle and allowed; A → B → A → B → A is refused.
        let a = Link(projectID: 1, ref: "main", source: .pipeline), b = Link(projectID: 2, ref: "main", source: .pipeline)
        #expect(!PipelineHierarchy.isLoop(isChild: false, chain: [a, b, push]))
        #expect(!PipelineHierarchy.isLoop(isChild: false, chain: [b, a, b, push]))
        #expect(PipelineHierarchy.isLoop(isChild: false, chain: [a, b, a, b, a]))
        #expect(!PipelineHierarchy.isLoop(isChild: true, chain: [a, b, a, b, a]))
        #expect(PipelineHierarchy.bridgeStatus(mirroring: .skipped) == .failed && PipelineHierarchy.bridgeStatus(mirroring: .running) == nil)
    }
}
