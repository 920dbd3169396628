import Foundation
import LatchkeyCore
import Logging

@testable import LatchkeyRunner

/// Jobs, executors and directories for runner tests.
struct JobFixtures {
    let directory: URL
    let api = RecordingRunnerAPI()
    var settings = JobFixtures.fastSettings

    static var fastSettings: ExecutorSettings {
        var settings = ExecutorSettings()
        settings.processPollInterval = .milliseconds(5)
        settings.traceCheckInterval = .milliseconds(10)
        settings.traceSendInterval = .milliseconds(50)
        settings.killGracePeriod = .milliseconds(500)
        settings.outputDrainTimeout = .milliseconds(300)
        settings.finalUpdateRetryDelay = .milliseconds(10)
        return settings
    }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-runner-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var buildsDirectory: URL { directory.appendingPathComponent("builds", isDirectory: true) }

    var configuration: RunnerConfiguration {
        RunnerConfiguration(url: "http://localhost:1", token: "glrt-runnertoken0123456789", buildsDirectory: buildsDirectory.path, name: "test-runner")
    }

    func executor(
        runnerEnvironment: [String: String] = ProcessInfo.processInfo.environment, configuration: RunnerConfiguration? = nil, sandbox: JobSandbox? = nil
    ) -> JobExecutor {
        JobExecutor(
            configuration: configuration ?? self.configuration, api: api, settings: settings, logger: Logger(label: "test"), runnerEnvironment: runnerEnvironment,
            sandbox: sandbox)
    }

    func cleanUp() {
        try? FileManager.default.removeItem(at: directory)
    }

    static func token() -> String {
        "glcbt-" + (0..<20).map { _ in String("abcdefghijklmnopqrstuvwxyz0123456789".randomElement()!) }.joined()
    }

    /// A job that runs `script` without cloning anything (GIT_STRATEGY=none) unless a repository is given.
    static func job(
        id: Int64 = 42, script: [String], afterScript: [String] = [], variables: [JobVariable] = [], timeout: Int = 60,
        artifacts: [JobPayload.ArtifactSpec] = [], dependencies: [JobPayload.Dependency] = [], repository: (url: String, sha: String, depth: Int)? = nil,
        token: String = JobFixtures.token()
    ) -> JobPayload {
        var allVariables = [
            JobVariable(key: "CI_JOB_ID", value: "\(id)", public: true),
            JobVariable(key: "CI_JOB_TOKEN", value: token, public: false, masked: true),
            JobVariable(key: "CI_PROJECT_PATH", value: "group/project", public: true),
        ]
        if repository == nil { allVariables.append(JobVariable(key: "GIT_STRATEGY", value: "none", public: true)) }
        allVariables += variables
        var steps = [JobPayload.Step(name: "script", script: script, timeout: timeout, when: "on_success", allowFailure: false)]
        if !afterScript.isEmpty {
            steps.append(JobPayload.Step(name: "after_script", script: afterScript, timeout: 300, when: "always", allowFailure: false))
        }
        return JobPayload(
            id: id, token: token,
            jobInfo: .init(id: id, name: "test", stage: "test", projectId: 1, projectName: "project"),
            gitInfo: .init(
                repoUrl: repository?.url ?? "http://gitlab-ci-token:\(token)@localhost:1/group/project.git", ref: "main", sha: repository?.sha ?? "0000000000",
                beforeSha: "0000000000000000000000000000000000000000", refType: "branch",
                refspecs: ["+refs/heads/main:refs/remotes/origin/main"], depth: repository?.depth ?? 0),
            runnerInfo: .init(timeout: timeout), variables: allVariables, steps: steps, artifacts: artifacts, dependencies: dependencies)
    }
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}
