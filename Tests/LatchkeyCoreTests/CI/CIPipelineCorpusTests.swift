import Testing

@testable import LatchkeyCore

/// A repository in memory: the pipeline's commit, and other projects the pipeline's user may or may not read.
struct FakeCIFiles: CIRepositoryFiles {
    var files: [String: String] = [:]
    /// project path → (readable by the pipeline's user, ref → path → text)
    var projects: [String: (readable: Bool, refs: [String: [String: String]])] = [:]
    var comparisons: [String: [String]] = [:]

    func localFile(_ path: String) async -> String? { files[path] }

    func projectFile(project: String, ref: String?, path: String) async throws(CIConfigError) -> String {
        guard let entry = projects[project], entry.readable else {
            throw CIConfigError("Project `\(project)` not found or access denied! Make sure any includes in the pipeline configuration are correctly defined.")
        }
        guard let tree = entry.refs[ref ?? "main"] else { throw CIConfigError("Project `\(project)` reference `\(ref ?? "main")` does not exist!") }
        guard let text = tree[path] else { throw CIConfigError("Project `\(project)` file `\(path)` does not exist!") }
        return text
    }

    func paths() async -> [String] { files.keys.sorted() }

    func changedPaths(comparedTo ref: String) async -> [String]? { comparisons[ref] }
}

@Suite("Realistic pipelines create exactly the jobs GitLab would")
struct CIPipelineCorpusTests {
    static func push(_ ref: String = "main", changed: [String]? = nil, tag: Bool = false, overrides: [String: String] = [:]) -> CIPipelineContext {
        CIPipelineContext(source: .push, ref: ref, isTag: tag, projectPath: "group/app", overrides: overrides, changedPaths: changed)
    }

    func jobs(_ yaml: String, _ context: CIPipelineContext, files: FakeCIFiles = FakeCIFiles()) async throws -> [String] {
        try await CIConfigParser.parse(yaml, context: context, files: files).jobs.map(\.name)
    }

    func messages(_ yaml: String, _ context: CIPipelineContext, files: FakeCIFiles = FakeCIFiles()) async -> [String] {
        do {
            _ = try await CIConfigParser.parse(yaml, context: context, files: files)
            return []
        } catch {
            return error.messages
        }
    }

    static let monorepo = """
        workflow:
          rules:
            - if: $CI_COMMIT_MESSAGE =~ /\\[skip ci\\]/
              when: never
            - if: $CI_PIPELINE_SOURCE == "push" || $CI_PIPELINE_SOURCE == "web"
        stages: [build, test, deploy]
        .service:
          rules:
            - changes: ["services/$SERVICE/**/*"]
        api-build:
          extends: .service
          stage: build
          variables: {SERVICE: api}
          script: make -C services/api
        web-build:
          extends: .service
          stage: build
          variables: {SERVICE: web}
          script: make -C services/web
        docs:
          stage: test
          script: mkdocs build
          rules:
            - changes: ["docs/**/*.md", "*.md"]
              when: manual
              allow_failure: true
        deploy:
          stage: deploy
          script: ./deploy
          needs: [{job: api-build, optional: true}, {job: web-build, optional: true}]
          rules:
            - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
            - if: $CI_COMMIT_TAG =~ /^v\\d+/
              when: manual
        """

    @Test("a monorepo push builds only the services it changed")
    func monorepoChanges() async throws {
        let context = Self.push("main", changed: ["services/api/main.go", "README.md"], overrides: ["CI_DEFAULT_BRANCH": "main"])
        let definition = try await CIConfigParser.parse(Self.monorepo, context: context, files: FakeCIFiles())
        #expect(definition.jobs.map(\.name) == ["api-build", "docs", "deploy"])
        let docs = try #require(definition.jobs.first { $0.name == "docs" })
        #expect(docs.when == .manual && docs.allowFailure)
        #expect(definition.jobs.last?.needs == ["api-build"])
    }

    @Test("a new branch has no push range, so every changes rule is true; deploy stays off a feature branch")
    func monorepoNewBranch() async throws {
        #expect(try await jobs(Self.monorepo, Self.push("feature", changed: nil)) == ["api-build", "web-build", "docs"])
    }

    @Test("an API pipeline is filtered out by workflow rules with GitLab's message")
    func monorepoWorkflowFilter() async {
        let api = CIPipelineContext(source: .api, ref: "main", projectPath: "group/app")
        let found = await messages(Self.monorepo, api)
        #expect(found == ["Pipeline filtered out by workflow rules."])
        var skip = Self.push("main", changed: ["services/api/x"])
        skip.predefined["CI_COMMIT_MESSAGE"] = "wip [skip ci]"
        #expect(await messages(Self.monorepo, skip) == ["Pipeline filtered out by workflow rules."])
    }

    @Test("when no rule matches any job the pipeline is not created, with GitLab's message")
    func nothingToRun() async {
        let yaml = "a: {script: x, rules: [{if: '$NOPE'}]}"
        #expect(
            await messages(yaml, Self.push()) == [
                "Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline."
            ])
    }

    @Test("a required need on a job that rules removed is GitLab's error")
    func missingNeed() async {
        let yaml = "a: {stage: build, script: x, rules: [{if: '$NOPE'}]}\nb: {script: x, needs: [a]}"
        #expect(
            await messages(yaml, Self.push()) == [
                "'b' job needs 'a' job, but 'a' does not exist in the pipeline. This might be because of the only, except, or rules keywords. "
                    + "To need a job that sometimes does not exist in the pipeline, use needs:optional."
            ])
    }

    static let matrix = """
        build:
          stage: build
          script: make
          parallel:
            matrix:
              - {OS: [linux, macos], ARCH: [amd64, arm64]}
              - {OS: windows, ARCH: amd64}
        shard:
          stage: test
          script: test --shard $CI_NODE_INDEX/$CI_NODE_TOTAL
          parallel: 3
          needs: [build]
        package-linux:
          stage: deploy
          script: pkg
          needs:
            - job: build
              parallel:
                matrix:
                  - {OS: linux, ARCH: arm64}
        """

    @Test("parallel and matrix jobs are named and wired as GitLab")
    func matrixBuild() async throws {
        let definition = try await CIConfigParser.parse(Self.matrix, context: Self.push(), files: FakeCIFiles())
        let builds = ["build: [linux, amd64]", "build: [linux, arm64]", "build: [macos, amd64]", "build: [macos, arm64]", "build: [windows, amd64]"]
        #expect(definition.jobs.map(\.name) == builds + ["shard 1/3", "shard 2/3", "shard 3/3", "package-linux"])
        let windows = try #require(definition.jobs.first { $0.name == "build: [windows, amd64]" })
        #expect(windows.variables.contains(CIVariable(key: "OS", value: "windows")))
        #expect(windows.variables.contains(CIVariable(key: "CI_NODE_TOTAL", value: "5")))
        #expect(definition.jobs.first { $0.name == "shard 2/3" }?.needs == builds)
        #expect(definition.jobs.first { $0.name == "shard 2/3" }?.variables.contains(CIVariable(key: "CI_NODE_INDEX", value: "2")) == true)
        #expect(definition.jobs.last?.needs == ["build: [linux, arm64]"])
    }

    @Test("rules see matrix variables, one instance at a time")
    func rulesPerMatrixInstance() async throws {
        let yaml = """
            build:
              script: make
              parallel: {matrix: [{OS: [linux, windows]}]}
              rules: [{if: '$OS == "linux"'}]
            """
        #expect(try await jobs(yaml, Self.push()) == ["build: [linux]"])
    }

    @Test("includes: local files, another project's file, remote and templates refused, access denied with GitLab's message")
    func includes() async throws {
        var files = FakeCIFiles()
        files.files["ci/build.yml"] = "build: {stage: build, script: make, variables: {LEVEL: local}}"
        files.files["ci/lint.yml"] = "lint: {script: lint}"
        files.projects["platform/templates"] = (true, ["v2": ["deploy.yml": "deploy: {stage: deploy, script: ship, only: [main]}"]])
        files.projects["secret/infra"] = (false, [:])
        let yaml = """
            include:
              - local: /ci/build.yml
              - 'ci/l*.yml'
              - {project: platform/templates, ref: v2, file: deploy.yml}
            build: {variables: {LEVEL: main}}
            """
        let definition = try await CIConfigParser.parse(yaml, context: Self.push(), files: files)
        #expect(definition.jobs.map(\.name) == ["build", "lint", "deploy"])
        #expect(definition.jobs.first?.variables == [CIVariable(key: "LEVEL", value: "main")])
        #expect(try await jobs(yaml, Self.push("feature"), files: files) == ["build", "lint"])

        let denied = "include: {project: secret/infra, file: ci.yml}\nx: {script: x}"
        #expect(
            await messages(denied, Self.push(), files: files) == [
                "Project `secret/infra` not found or access denied! Make sure any includes in the pipeline configuration are correctly defined."
            ])
        #expect(await messages("include: {local: missing.yml}\nx: {script: x}", Self.push(), files: files) == ["Local file `missing.yml` does not exist!"])
        #expect(await messages("include: 'https://example.com/ci.yml'\nx: {script: x}", Self.push(), files: files).first?.contains("include:remote is not supported") == true)
        #expect(await messages("include: {template: Auto-DevOps.gitlab-ci.yml}\nx: {script: x}", Self.push(), files: files).first?.contains("include:template") == true)
        files.files["loop.yml"] = "include: loop.yml\nx: {script: x}"
        #expect(await messages("include: loop.yml", Self.push(), files: files) == ["Maximum of 150 nested includes are allowed!"])
    }

    @Test("only/except: refs, sources, regexes, variables and changes, and never with rules")
    func onlyExcept() async throws {
        let yaml = """
            branches-only: {script: x, only: [branches]}
            tags-only: {script: x, only: [tags]}
            release: {script: x, only: ['/^release-.*$/'], except: [schedules]}
            api-only: {script: x, only: [api, web]}
            flagged: {script: x, only: {variables: ['$DEPLOY == "yes"']}}
            not-main: {script: x, except: {refs: [main]}}
            """
        #expect(try await jobs(yaml, Self.push("main")) == ["branches-only"])
        #expect(try await jobs(yaml, Self.push("release-1")) == ["branches-only", "release", "not-main"])
        #expect(try await jobs(yaml, Self.push("v1", tag: true)) == ["tags-only", "not-main"])
        let api = CIPipelineContext(source: .api, ref: "main", projectPath: "group/app", overrides: ["DEPLOY": "yes"])
        #expect(try await jobs(yaml, api) == ["branches-only", "api-only", "flagged"])
        let schedule = CIPipelineContext(source: .schedule, ref: "release-2", projectPath: "group/app")
        #expect(try await jobs(yaml, schedule) == ["branches-only", "not-main"])
        #expect(
            await messages("a: {script: x, rules: [{when: always}], except: [main]}", Self.push()) == [
                "jobs:a config key may not be used with `rules`: except"
            ])
    }

    @Test("rules:exists globs the commit's tree; rules variables and when apply")
    func existsAndVariables() async throws {
        var files = FakeCIFiles()
        files.files["Dockerfile"] = ""
        files.files["web/package.json"] = ""
        let yaml = """
            docker:
              script: docker build .
              rules:
                - exists: [Dockerfile]
                  variables: {IMAGE: app}
            node:
              script: npm test
              rules: [{exists: ["**/package.json"], when: always}]
            gem:
              script: bundle
              rules: [{exists: [Gemfile]}]
            """
        let definition = try await CIConfigParser.parse(yaml, context: Self.push(), files: files)
        #expect(definition.jobs.map(\.name) == ["docker", "node"])
        #expect(definition.jobs[0].variables == [CIVariable(key: "IMAGE", value: "app")])
        #expect(definition.jobs[1].when == .always)
    }

    @Test("changes:compare_to compares with the named ref")
    func compareTo() async throws {
        var files = FakeCIFiles()
        files.comparisons["main"] = ["src/a.swift"]
        let yaml = "a: {script: x, rules: [{changes: {paths: ['src/**/*'], compare_to: main}}]}\nb: {script: x, rules: [{changes: {paths: [docs/*], compare_to: main}}]}"
        #expect(try await jobs(yaml, Self.push("feature"), files: files) == ["a"])
    }

    @Test("!reference reuses keys of other jobs after extends, and workflow:name expands variables")
    func referencesAndName() async throws {
        let yaml = """
            workflow: {name: 'Pipeline for $CI_COMMIT_REF_NAME'}
            .setup:
              before_script: [echo setup]
              rules: [{if: $CI_COMMIT_BRANCH}]
            test:
              before_script: [!reference [.setup, before_script], echo more]
              rules: [!reference [.setup, rules]]
              script: make test
            """
        let definition = try await CIConfigParser.parse(yaml, context: Self.push("dev"), files: FakeCIFiles())
        #expect(definition.name == "Pipeline for dev")
        #expect(definition.jobs.first?.beforeScript == ["echo setup", "echo more"])
        let circular = await messages("a: {script: [!reference [a, script]]}", Self.push())
        #expect(circular.first?.hasPrefix("!reference [\"a\", \"script\"]") == true, "got \(circular)")
    }

    @Test("retry, allow_failure:exit_codes, resource_group, coverage, inherit and expand:false reach the job")
    func jobKeywords() async throws {
        let yaml = """
            variables: {A: "1", B: "2"}
            default: {retry: 1, tags: [linux]}
            job:
              script: x
              retry: {max: 2, when: [script_failure], exit_codes: [137]}
              allow_failure: {exit_codes: [42]}
              resource_group: prod
              coverage: '/Coverage: \\d+%/'
              inherit: {variables: [A], default: false}
              variables: {RAW: {value: '$HOME', expand: false}}
            """
        let definition = try await CIConfigParser.parse(yaml, context: Self.push(), files: FakeCIFiles())
        let job = try #require(definition.jobs.first)
        #expect(job.retry == JobRetry(max: 2, when: ["script_failure"], exitCodes: [137]))
        #expect(job.allowFailureExitCodes == [42] && !job.allowFailure)
        #expect(job.resourceGroup == "prod" && job.coverage == "/Coverage: \\d+%/")
        #expect(job.tags.isEmpty)
        #expect(definition.yamlVariables(of: job) == [CIVariable(key: "A", value: "1"), CIVariable(key: "RAW", value: "$HOME", raw: true)])
    }
}
