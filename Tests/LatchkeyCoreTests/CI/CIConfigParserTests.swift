import Foundation
import Testing

@testable import LatchkeyCore

@Suite("Parsing a valid .gitlab-ci.yml")
struct CIConfigParserTests {
    private func parse(_ yaml: String) throws -> PipelineDefinition {
        try CIConfigParser.parse(yaml)
    }

    private func job(_ name: String, in definition: PipelineDefinition) throws -> JobDefinition {
        try #require(definition.jobs.first { $0.name == name })
    }

    @Test("a minimal job runs in the test stage of the default stages")
    func minimalJob() throws {
        let definition = try parse("build:\n  script: make\n")
        #expect(definition.stages == [".pre", "build", "test", "deploy", ".post"])
        #expect(definition.variables.isEmpty)
        #expect(
            definition.jobs == [
                JobDefinition(name: "build", stage: "test", script: ["make"])
            ]
        )
    }

    @Test("declared stages get .pre first and .post last, even when listed elsewhere")
    func stagesAreWrapped() throws {
        let definition = try parse(
            """
            stages: [.post, compile, .pre, check, compile]
            a: {stage: check, script: x}
            """
        )
        #expect(definition.stages == [".pre", "compile", "check", ".post"])
        #expect(definition.stageIndex(of: "check") == 2)
    }

    @Test("jobs keep file order and hidden jobs are left out")
    func fileOrderAndHiddenJobs() throws {
        let definition = try parse(
            """
            zeta: {script: z}
            .hidden: {script: h}
            alpha: {script: a}
            .not_even_a_job: 42
            """
        )
        #expect(definition.jobs.map(\.name) == ["zeta", "alpha"])
    }

    @Test("scripts may be a string, a list, or nested lists, which are flattened")
    func scriptShapes() throws {
        let definition = try parse(
            """
            one: {script: "echo one"}
            many:
              script:
                - echo a
                - [echo b, [echo c]]
              before_script: setup
              after_script: [cleanup]
            """
        )
        #expect(try job("one", in: definition).script == ["echo one"])
        let many = try job("many", in: definition)
        #expect(many.script == ["echo a", "echo b", "echo c"])
        #expect(many.beforeScript == ["setup"])
        #expect(many.afterScript == ["cleanup"])
    }

    @Test("variables keep file order, stringify integers, and read the long form")
    func variables() throws {
        let definition = try parse(
            """
            variables:
              GLOBAL: "1"
              COUNT: 3
              CHOICE: {value: blue, description: "pick one", options: [blue, red]}
            job:
              script: env
              variables:
                B: two
                A: {value: one, expand: false}
                EMPTY: ""
            """
        )
        #expect(
            definition.variables == [
                CIVariable(key: "GLOBAL", value: "1"), CIVariable(key: "COUNT", value: "3"),
                CIVariable(key: "CHOICE", value: "blue"),
            ]
        )
        #expect(
            try job("job", in: definition).variables == [
                CIVariable(key: "B", value: "two"), CIVariable(key: "A", value: "one", raw: true), CIVariable(key: "EMPTY", value: ""),
            ]
        )
    }

    @Test("default: fills in what a job leaves out, and a job's own value wins")
    func defaults() throws {
        let definition = try parse(
            """
            default:
              before_script: [default-before]
              after_script: [default-after]
              image: ruby:3
              tags: [linux]
              timeout: 1h 30m
              interruptible: true
              artifacts: {paths: [out/]}
            plain:
              script: x
            custom:
              script: y
              before_script: [own]
              image: {name: alpine, entrypoint: [""]}
              tags: []
              timeout: 10 minutes
              interruptible: false
              artifacts: {paths: [dist/], when: always, expire_in: 1 week, name: bundle}
            """
        )
        let plain = try job("plain", in: definition)
        #expect(plain.beforeScript == ["default-before"])
        #expect(plain.afterScript == ["default-after"])
        #expect(plain.image?.name == "ruby:3")
        #expect(plain.tags == ["linux"])
        #expect(plain.timeoutSeconds == 5400)
        #expect(plain.interruptible)
        #expect(plain.artifacts == ArtifactsDefinition(paths: ["out/"]))

        let custom = try job("custom", in: definition)
        #expect(custom.beforeScript == ["own"])
        #expect(custom.afterScript == ["default-after"])
        #expect(custom.image?.name == "alpine")
        #expect(custom.tags == [])
        #expect(custom.timeoutSeconds == 600)
        #expect(!custom.interruptible)
        #expect(
            custom.artifacts
                == ArtifactsDefinition(name: "bundle", paths: ["dist/"], when: .always, expireIn: "1 week", expireInSeconds: 604_800)
        )
    }

    @Test("the deprecated top-level before_script, after_script and image still apply")
    func deprecatedGlobals() throws {
        let definition = try parse(
            """
            before_script: [global-before]
            after_script: global-after
            image: debian
            job: {script: x}
            """
        )
        let job = try job("job", in: definition)
        #expect(job.beforeScript == ["global-before"])
        #expect(job.afterScript == ["global-after"])
        #expect(job.image?.name == "debian")
    }

    @Test("expire_in: never keeps artifacts and has no expiry in seconds")
    func artifactsNeverExpire() throws {
        let definition = try parse("job: {script: x, artifacts: {paths: [a], expire_in: never}}")
        let artifacts = try #require(try job("job", in: definition).artifacts)
        #expect(artifacts.expireIn == "never")
        #expect(artifacts.expireInSeconds == nil)
        #expect(artifacts.neverExpires)
    }

    @Test("when: manual makes a job allowed to fail unless it says otherwise")
    func manualDefaults() throws {
        let definition = try parse(
            """
            a: {script: x, when: manual}
            b: {script: x, when: manual, allow_failure: false}
            c: {script: x, allow_failure: true}
            d: {script: x, when: always}
            e: {script: x, when: on_failure}
            """
        )
        #expect(definition.jobs.map(\.when) == [.manual, .manual, .onSuccess, .always, .onFailure])
        #expect(definition.jobs.map(\.allowFailure) == [true, false, true, false, false])
    }

    @Test("needs and dependencies are read; needs also decide artifact sources")
    func needsAndDependencies() throws {
        let definition = try parse(
            """
            stages: [build, test, deploy]
            compile: {stage: build, script: x}
            lint: {stage: build, script: x}
            unit:
              stage: test
              script: x
              needs: [compile, {job: lint, artifacts: false}, {job: ghost, optional: true}]
            quick: {stage: test, script: x, needs: []}
            deploy:
              stage: deploy
              script: x
              dependencies: [compile]
            pick:
              stage: deploy
              script: x
              needs: [compile, lint]
              dependencies: [lint]
            """
        )
        let unit = try job("unit", in: definition)
        #expect(unit.needs == ["compile", "lint"])
        #expect(unit.dependencies == ["compile"])
        let quick = try job("quick", in: definition)
        #expect(quick.needs == [])
        #expect(quick.dependencies == [])
        let deploy = try job("deploy", in: definition)
        #expect(deploy.needs == nil)
        #expect(deploy.dependencies == ["compile"])
        #expect(try job("compile", in: definition).dependencies == nil)
        #expect(try job("pick", in: definition).dependencies == ["lint"])
    }

    @Test("a job may need a job of its own stage")
    func needsInSameStage() throws {
        let definition = try parse(
            """
            a: {stage: test, script: x}
            b: {stage: test, script: x, needs: [a]}
            """
        )
        #expect(try job("b", in: definition).needs == ["a"])
    }

    @Test("anchors, aliases and merge keys work as in GitLab")
    func anchorsAndMergeKeys() throws {
        let definition = try parse(
            """
            .defaults: &defaults
              stage: build
              tags: [docker]
              variables: {A: "1"}
            .scripts: &setup
              - echo setup
            stages: [build]
            job:
              <<: *defaults
              script: *setup
              tags: [shell]
            other:
              tags: [late]
              <<: [*defaults, {stage: build, image: x}]
              script: [*setup, echo other]
            """
        )
        let job = try job("job", in: definition)
        #expect(job.stage == "build")
        #expect(job.tags == ["shell"])
        #expect(job.variables == [CIVariable(key: "A", value: "1")])
        #expect(job.script == ["echo setup"])
        // Psych merges `<<` where it stands, so a merge after an explicit key overrides it.
        let other = try self.job("other", in: definition)
        #expect(other.tags == ["docker"])
        #expect(other.image?.name == "x")
        #expect(other.script == ["echo setup", "echo other"])
    }

    @Test("extends deep-merges hashes over hidden and real jobs, several levels deep")
    func extendsMerges() throws {
        let definition = try parse(
            """
            .base:
              stage: build
              script: [base]
              variables: {A: base, B: base}
              artifacts: {paths: [base/], when: always}
            .middle:
              extends: .base
              variables: {B: middle, C: middle}
              tags: [m]
            stages: [build, test]
            real:
              extends: .middle
              script: [real]
              variables: {C: real}
            copy:
              extends: [real, .other]
              stage: test
            .other:
              image: other
            """
        )
        let real = try job("real", in: definition)
        #expect(real.stage == "build")
        #expect(real.script == ["real"])
        #expect(real.tags == ["m"])
        #expect(
            real.variables == [
                CIVariable(key: "A", value: "base"), CIVariable(key: "B", value: "middle"), CIVariable(key: "C", value: "real"),
            ]
        )
        #expect(real.artifacts == ArtifactsDefinition(paths: ["base/"], when: .always))
        let copy = try job("copy", in: definition)
        #expect(copy.stage == "test")
        #expect(copy.script == ["real"])
        #expect(copy.image?.name == "other")
        #expect(definition.jobs.map(\.name) == ["real", "copy"])
    }

    @Test("keys that only tune other runners are accepted and ignored")
    func ignoredKeys() throws {
        let definition = try parse(
            """
            services: [postgres]
            cache: {paths: [vendor/]}
            job:
              script: x
              services: [redis]
              cache: {key: k, paths: [a]}
              coverage: '/\\d+%/'
              environment: production
              resource_group: prod
              retry: 2
              interruptible: true
              artifacts: {paths: [a], reports: {junit: report.xml}, expose_as: 'Report', exclude: [a/tmp]}
            """
        )
        #expect(definition.jobs.map(\.name) == ["job"])
    }

    @Test("job definitions round-trip through JSON, as the store keeps them")
    func codableRoundTrip() throws {
        let definition = try parse(
            """
            job:
              script: x
              needs: []
              artifacts: {paths: [a], expire_in: 2 days}
              when: manual
            """
        )
        let data = try JSONEncoder().encode(definition)
        #expect(try JSONDecoder().decode(PipelineDefinition.self, from: data) == definition)
        let json = String(decoding: try JSONEncoder().encode(JobWhen.onFailure), as: UTF8.self)
        #expect(json == "\"on_failure\"")
    }
}

@Test("a stored job definition missing newer fields still decodes with defaults")
func jobDefinitionDecodesOlderJSON() throws {
    let json = #"{"name":"build","stage":"build","script":["make"],"when":"manual","allowFailure":true}"#
    let job = try JSONDecoder().decode(JobDefinition.self, from: Data(json.utf8))
    #expect(job == JobDefinition(name: "build", stage: "build", script: ["make"], when: .manual, allowFailure: true))
}
