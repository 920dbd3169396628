import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyTestSupport
import Testing

/// A job a runner has claimed, with its live token.
struct RunningJob: Sendable {
    var projectID: Int64
    var pipelineID: Int64
    var jobID: Int64
    var token: String
    var runnerToken: String

    var headers: HTTPFields { [HTTPField.Name("JOB-TOKEN")!: token] }
}

extension TestClientProtocol {
    /// Commits `ciFile` to the project, starts a pipeline as `userToken` and has a fresh runner claim its first job.
    func runningJob(
        _ server: TestServer, projectID: Int64, userToken: String, ciFile: String = "build:\n  script: echo build\n",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> RunningJob {
        try GitFixtures.commit([".gitlab-ci.yml": ciFile], to: server.environment.repositories.path(projectID: projectID))
        let pipeline = try await api(.post, "projects/\(projectID)/pipeline", token: userToken, json: ["ref": "main"])
        try #require(pipeline.status == .created, "pipeline: \(pipeline.status) \(pipeline.text)", sourceLocation: sourceLocation)
        let registration = try await server.environment.registrationToken()
        let runner = try await api(.post, "runners", json: ["token": registration])
        let runnerToken = try #require(runner.object["token"] as? String, sourceLocation: sourceLocation)
        let claimed = try await api(.post, "jobs/request", json: ["token": runnerToken])
        try #require(claimed.status == .created, "no job claimed: \(claimed.status)", sourceLocation: sourceLocation)
        return RunningJob(
            projectID: projectID, pipelineID: pipeline.id, jobID: claimed.id, token: try #require(claimed.object["token"] as? String, sourceLocation: sourceLocation),
            runnerToken: runnerToken)
    }
}
