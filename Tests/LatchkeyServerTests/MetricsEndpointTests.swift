import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Prometheus metrics")
struct MetricsEndpointTests {
    @Test("only an administrator's token reads /-/metrics, with read_api or api; the others get 401, 403 or 404")
    func whoReads() async throws {
        try await withTestServer { server, client in
            #expect(try await client.api(.get, "/-/metrics").status == .unauthorized)
            let (_, userToken) = try await server.makeUser("carol")
            #expect(try await client.api(.get, "/-/metrics", token: userToken).status == .notFound)
            let (_, readOnlyAdmin) = try await server.makeUser("auditor", admin: true, scopes: [.readAPI])
            #expect(try await client.api(.get, "/-/metrics", token: readOnlyAdmin).status == .ok)
            let (_, repositoryOnlyAdmin) = try await server.makeUser("mirror", admin: true, scopes: [.readRepository])
            #expect(try await client.api(.get, "/-/metrics", token: repositoryOnlyAdmin).status == .forbidden)
        }
    }

    @Test("requests by route and status, a latency histogram, job-token decisions and the queue depth are exposed")
    func contents() async throws {
        try await withTestServer { server, client in
            let project = try await client.createProject(["name": "app"], token: server.rootToken)
            #expect(try await client.api(.get, "projects/1", token: server.rootToken).status == .ok)
            let job = try await client.runningJob(server, projectID: project.id, userToken: server.rootToken)
            #expect(try await client.api(.get, "job", headers: job.headers).status == .ok)
            let response = try await client.api(.get, "/-/metrics", token: server.rootToken)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = response.text
            #expect(text.contains(#"latchkey_http_requests_total{route="/api/v4/projects/{id}",method="GET",status="200"}"#), "\(text.prefix(3000))")
            #expect(text.contains("# TYPE latchkey_http_request_duration_seconds histogram"))
            #expect(text.contains(#"latchkey_jobs{status="running"}"#))
            #expect(text.contains(#"latchkey_job_claim_duration_seconds_bucket{claimed="true""#))
            #expect(!text.contains(job.token))
            #expect(!text.contains(server.rootToken))
        }
    }

    @Test("a job-token decision is counted by ability, result and the refusal's kind")
    func jobTokenDecisions() async throws {
        ServerMetrics.bootstrap()
        ServerMetrics.jobTokenDecision(.readProject, .denied(.jobTokenScope(source: "a/b", target: "c/d")))
        let text = ServerMetrics.registry.emitToString()
        #expect(text.contains(#"latchkey_job_token_decisions_total{ability="read_project",result="denied",reason="jobTokenScope"}"#), "\(text)")
        #expect(!text.contains("a/b") && !text.contains("c/d"))
    }
}
