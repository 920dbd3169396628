import Foundation
import Testing

@testable import LatchkeyCore

/// A repository whose files each have a known last commit, for `cache:key:files`.
private struct CommitsOnly: CIRepositoryFiles {
    var commits: [String: String]
    func localFile(_ path: String) async -> String? { nil }
    func projectFile(project: String, ref: String?, path: String) async throws(CIConfigError) -> String { throw CIConfigError("no") }
    func paths() async -> [String] { Array(commits.keys) }
    func changedPaths(comparedTo ref: String) async -> [String]? { nil }
    func lastCommits(paths: [String]) async -> [String: String] { commits.filter { paths.contains($0.key) } }
}

@Suite("image, services, cache and hooks")
struct ContainerKeywordsConfigTests {
    @Test("image keeps entrypoint, pull policy and docker options; services keep alias, command and variables")
    func imageAndServices() throws {
        let definition = try CIConfigParser.parse(
            """
            test:
              image:
                name: registry.example/ruby:3.3
                entrypoint: [""]
                pull_policy: [always, if-not-present]
                docker: {platform: linux/arm64, user: "1000"}
              services:
                - postgres:16
                - name: docker:dind
                  alias: docker, dind
                  command: [--tls=false]
                  entrypoint: [dockerd-entrypoint.sh]
                  variables: {DOCKER_TLS_CERTDIR: ""}
              script: [rake]
            """)
        let job = try #require(definition.jobs.first)
        var image = CIImage(name: "registry.example/ruby:3.3")
        image.entrypoint = [""]
        image.pullPolicy = ["always", "if-not-present"]
        image.dockerPlatform = "linux/arm64"
        image.dockerUser = "1000"
        #expect(job.image == image)
        var dind = CIImage(name: "docker:dind")
        dind.alias = "docker, dind"
        dind.command = ["--tls=false"]
        dind.entrypoint = ["dockerd-entrypoint.sh"]
        dind.variables = [CIVariable(key: "DOCKER_TLS_CERTDIR", value: "")]
        #expect(job.services == [CIImage(name: "postgres:16"), dind])
    }

    @Test("default and the top-level keywords give image, services, cache and hooks to jobs that set none; inherit:default can refuse them")
    func defaults() throws {
        let definition = try CIConfigParser.parse(
            """
            default:
              image: alpine
              hooks: {pre_get_sources_script: [echo hook]}
              cache: {key: deps, paths: [vendor/]}
            services: [redis]
            plain:
              script: [a]
            own:
              image: debian
              services: []
              cache: []
              script: [b]
            bare:
              inherit: {default: false}
              script: [c]
            """)
        let jobs = Dictionary(uniqueKeysWithValues: definition.jobs.map { ($0.name, $0) })
        #expect(jobs["plain"]?.image?.name == "alpine")
        #expect(jobs["plain"]?.services == [CIImage(name: "redis")])
        #expect(jobs["plain"]?.caches == [CICache(key: "deps", paths: ["vendor/"])])
        #expect(jobs["plain"]?.hooks == CIHooks(preGetSourcesScript: ["echo hook"]))
        #expect(jobs["own"]?.image?.name == "debian")
        #expect(jobs["own"]?.services == [])
        #expect(jobs["own"]?.caches == [])
        #expect(jobs["bare"]?.image == nil)
        #expect(jobs["bare"]?.services == [])
        #expect(jobs["bare"]?.caches == [])
        #expect(jobs["bare"]?.hooks == nil)
    }

    @Test("cache entries keep GitLab's defaults and fields; key:files is the prefix and a SHA-1 of the files' last commits")
    func cacheKeys() async throws {
        let yaml = """
            install:
              cache:
                - key: {files: [Gemfile.lock, package-lock.json], prefix: deps}
                  paths: [vendor/]
                  policy: pull
                  when: always
                  untracked: true
                  unprotect: true
                  fallback_keys: [main-deps]
                - key: {files: [missing.lock]}
                  paths: [x]
                - paths: [y]
              script: [bundle]
            """
        let files = CommitsOnly(commits: ["Gemfile.lock": "b" + String(repeating: "0", count: 39), "package-lock.json": "a" + String(repeating: "0", count: 39)])
        let definition = try await CIConfigParser.parse(yaml, context: CIPipelineContext(), files: files)
        let caches = try #require(definition.jobs.first?.caches)
        // GitLab: SHA-1 of the sorted, distinct commit ids joined by "-" (`printf 'a000…-b000…' | sha1sum`).
        #expect(caches.first?.key == "deps-2be2600c454a4dc9a6f952a003d4bdaf7e1f3c57")
        #expect(caches.first?.policy == "pull")
        #expect(caches.first?.when == "always")
        #expect(caches.first?.untracked == true)
        #expect(caches.first?.unprotect == true)
        #expect(caches.first?.fallbackKeys == ["main-deps"])
        #expect(caches.dropFirst().first?.key == "default")
        #expect(caches.last == CICache(key: "default", paths: ["y"]))
        let reordered = CommitsOnly(commits: ["Gemfile.lock": files.commits["package-lock.json"] ?? "", "package-lock.json": files.commits["Gemfile.lock"] ?? ""])
        let again = try await CIConfigParser.parse(yaml, context: CIPipelineContext(), files: reordered)
        #expect(again.jobs.first?.caches.first?.key == caches.first?.key, "the digest does not depend on which file has which commit")
    }

    @Test(
        "malformed image, services, cache and hooks are refused with GitLab's messages",
        arguments: [
            ("image: ''", "jobs:j:image name can't be blank"),
            ("image: {name: ''}", "jobs:j:image name can't be blank"),
            ("image: {entrypoint: [sh]}", "jobs:j:image name can't be blank"),
            ("image: {name: a, entrypoint: sh}", "jobs:j:image entrypoint should be an array of strings"),
            ("image: {name: a, ports: [80]}", "jobs:j:image config contains disallowed keys: ports"),
            ("image: {name: a, alias: b}", "jobs:j:image config contains unknown keys: alias"),
            ("image: {name: a, pull_policy: sometimes}", "jobs:j:image:pull_policy config is not included in the list"),
            ("image: {name: a, pull_policy: [always, later]}", "jobs:j:image:pull_policy config contains invalid values: later"),
            ("image: {name: a, docker: {privileged: true}}", "jobs:j:image executor opts '/docker/privileged' must be a valid 'schema'"),
            ("services: postgres", "jobs:j:services config should be a array"),
            ("services: [{alias: db}]", "jobs:j:services:service name can't be blank"),
            ("services: [{name: a, alias: [b]}]", "jobs:j:services:service alias should be a string"),
            ("cache: path", "jobs:j:cache config can only be a hash or an array"),
            ("cache: [{}, {}, {}, {}, {}]", "jobs:j:cache config no more than 4 caches can be created"),
            ("cache: {key: a/b}", "jobs:j:cache:key config cannot contain the \"/\" character"),
            ("cache: {key: a%2Fb}", "jobs:j:cache:key config cannot contain the \"/\" character"),
            ("cache: {key: '..'}", "jobs:j:cache:key config cannot be \".\" or \"..\""),
            ("cache: {key: '%2e'}", "jobs:j:cache:key config cannot be \".\" or \"..\""),
            ("cache: {key: {files: [a, b, c]}}", "jobs:j:cache:key:files config has too many items (maximum is 2)"),
            ("cache: {key: {prefix: p}}", "jobs:j:cache:key:files config should be an array of strings"),
            ("cache: {policy: pull-only}", "jobs:j:cache policy should be a variable or one of: pull-push, push, pull"),
            ("cache: {when: never}", "jobs:j:cache when should be one of: on_success, on_failure, always"),
            ("cache: {fallback_keys: [a, b, c, d, e, f]}", "jobs:j:cache fallback keys has to many entries (maximum 5)"),
            ("cache: {pahts: [a]}", "jobs:j:cache config contains unknown keys: pahts"),
            ("hooks: {post_get_sources_script: [a]}", "jobs:j:hooks config contains unknown keys: post_get_sources_script"),
            ("hooks: [a]", "jobs:j:hooks config should be a hash"),
            ("artifacts: {reports: {junit: 1}}", "jobs:j:artifacts:reports junit should be an array of strings or a string"),
            ("artifacts: {reports: {jnuit: a.xml}}", "jobs:j:artifacts:reports config contains unknown keys: jnuit"),
            ("artifacts: {reports: {coverage_report: {coverage_format: lcov, path: a}}}",
             "jobs:j:artifacts:reports:coverage_report coverage format must be one of supported formats: cobertura, jacoco"),
            ("artifacts: {exclude: a}", "jobs:j:artifacts exclude should be an array of strings"),
            ("artifacts: {expose_as: 'a!', paths: [a]}", "jobs:j:artifacts expose as can contain only letters, digits, '-', '_' and spaces"),
            ("artifacts: {expose_as: a}", "jobs:j:artifacts expose as when `expose_as` is set `paths` must be defined"),
            ("artifacts: {expose_as: a, paths: ['*.log']}", "jobs:j:artifacts expose as paths can't contain '*' when used with 'exposed_as'"),
        ])
    func refused(entry: String, message: String) {
        do {
            _ = try CIConfigParser.parse("j:\n  \(entry)\n  script: [x]\n")
            Issue.record("accepted \(entry)")
        } catch {
            #expect(error.messages.contains(message), "\(error.messages)")
        }
    }

    @Test("reports keep their type and paths; coverage_report becomes its format; without paths or untracked there is no archive")
    func reports() throws {
        let definition = try CIConfigParser.parse(
            """
            test:
              artifacts:
                untracked: true
                exclude: [tmp/]
                expose_as: Test results
                paths: [out/]
                reports:
                  junit: [a.xml, b.xml]
                  dotenv: deploy.env
                  coverage_report: {coverage_format: cobertura, path: coverage.xml}
              script: [x]
            only-reports:
              artifacts: {reports: {junit: r.xml}}
              script: [y]
            """)
        let artifacts = try #require(definition.jobs.first?.artifacts)
        #expect(artifacts.untracked && artifacts.hasArchive && artifacts.exclude == ["tmp/"] && artifacts.exposeAs == "Test results")
        #expect(
            artifacts.reports == [
                ArtifactReport(type: "junit", paths: ["a.xml", "b.xml"]), ArtifactReport(type: "dotenv", paths: ["deploy.env"]),
                ArtifactReport(type: "cobertura", paths: ["coverage.xml"]),
            ])
        #expect(artifacts.reports.map(\.format) == ["gzip", "gzip", "gzip"])
        #expect(definition.jobs.last?.artifacts?.hasArchive == false)
    }

    @Test("a cache policy may be a variable, expanded by the runner")
    func policyVariable() throws {
        let definition = try CIConfigParser.parse("j:\n  cache: {key: k, policy: $CACHE_POLICY}\n  script: [x]\n")
        #expect(definition.jobs.first?.caches.first?.policy == "$CACHE_POLICY")
    }

    @Test("definitions stored before images had options still decode, the image as its name")
    func storedImageName() throws {
        let json = #"{"name":"old","script":["x"],"image":"ruby:2"}"#
        let job = try JSONDecoder().decode(JobDefinition.self, from: Data(json.utf8))
        #expect(job.image == CIImage(name: "ruby:2"))
        #expect(job.services == [] && job.caches == [] && job.hooks == nil)
    }
}
