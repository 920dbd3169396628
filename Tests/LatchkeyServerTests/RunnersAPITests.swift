import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Runners API (administration)")
struct RunnersAPITests {
    @Test("administrators list, read, pause, retag and delete runners; a paused runner takes no job; others are refused", arguments: TestBackend.all)
    func administration(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (projectID, runnerToken) = try await RunnerProtocolTests.setUp(server, client)
            let second = try await client.api(.post, "user/runners", token: server.rootToken, json: ["runner_type": "instance_type", "description": "gpu", "tag_list": "gpu,linux"])
            let secondID = try #require(second.object["id"] as? Int)
            let (_, alice) = try await server.makeUser("alice")

            let all = try await client.api(.get, "runners/all", token: server.rootToken)
            #expect(all.status == .ok)
            let listed = try #require(all.array as? [[String: Any]])
            #expect(listed.map { $0["description"] as? String } == ["test runner", "gpu"])
            #expect(all.header("X-Total") == "2")
            #expect(listed[1]["runner_type"] as? String == "instance_type" && listed[1]["is_shared"] as? Bool == true)
            #expect(listed[1]["status"] as? String == "never_contacted" && listed[1]["online"] as? Bool == false && listed[1]["paused"] as? Bool == false)
            let tagged = try await client.api(.get, "runners/all?tag_list=gpu", token: server.rootToken)
            #expect((tagged.array as? [[String: Any]])?.map { $0["id"] as? Int } == [secondID])
            #expect((try await client.api(.get, "runners/all?type=project_type", token: server.rootToken).array as? [Any])?.isEmpty == true)
            #expect(try await client.api(.get, "runners/all?status=sleepy", token: server.rootToken).status == .badRequest)
            // GitLab's /runners is the caller's own group and project runners: Latchkey has only instance runners.
            #expect((try await client.api(.get, "runners", token: server.rootToken).array as? [Any])?.isEmpty == true)
            #expect(try await client.api(.get, "runners").status == .unauthorized)

            for (method, path) in [(HTTPRequest.Method.get, "runners/all"), (.get, "runners/\(secondID)"), (.put, "runners/\(secondID)"), (.delete, "runners/\(secondID)")] {
                let refused = try await client.api(method, path, token: alice, json: method == .put ? ["paused": true] : nil)
                #expect(refused.status == .forbidden, "\(method) \(path) by a non-administrator: \(refused.status)")
            }
            #expect(try await client.api(.get, "runners/999999", token: server.rootToken).string("message") == "404 Runner Not Found")

            let details = try await client.api(.get, "runners/\(secondID)", token: server.rootToken)
            #expect(details.object["tag_list"] as? [String] == ["gpu", "linux"])
            #expect(details.object["run_untagged"] as? Bool == false && details.object["access_level"] as? String == "not_protected")

            // Paused: the runner asks and gets nothing though a job waits; resumed, it gets the job.
            let first = try #require((listed[0]["id"] as? Int))
            let paused = try await client.api(.put, "runners/\(first)", token: server.rootToken, json: ["paused": true, "description": "paused runner"])
            #expect(paused.status == .ok, "\(paused.text)")
            #expect(paused.object["paused"] as? Bool == true && paused.object["active"] as? Bool == false && paused.string("description") == "paused runner")
            let idle = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            #expect(idle.status == .noContent, "\(idle.status) \(idle.text)")
            #expect(try await client.api(.put, "runners/\(first)", token: server.rootToken, json: ["active": true]).object["paused"] as? Bool == false)
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            #expect(claimed.status == .created)
            let jobs = try await client.api(.get, "runners/\(first)/jobs", token: server.rootToken)
            #expect(jobs.status == .ok, "\(jobs.text)")
            #expect(jobs.array.map { $0["id"] as? Int } == [claimed.object["id"] as? Int])
            #expect((jobs.array.first?["pipeline"] as? [String: Any])?["project_id"] as? Int == Int(projectID), "\(jobs.text)")
            #expect(try await client.api(.get, "runners/\(first)/jobs?status=success", token: server.rootToken).array.isEmpty)
            #expect(try await client.api(.get, "runners/\(first)/jobs?status=bogus", token: server.rootToken).status == .badRequest)
            #expect(try await client.api(.get, "runners/\(first)/jobs", token: alice).status == .forbidden)
            // A project's Maintainers see the runners its jobs may use; others do not.
            let forProject = try await client.api(.get, "projects/\(projectID)/runners", token: server.rootToken)
            #expect(forProject.array.count == 2, "\(forProject.text)")
            #expect([403, 404].contains(try await client.api(.get, "projects/\(projectID)/runners", token: alice).status.code))

            let untaggable = try await client.api(.put, "runners/\(secondID)", token: server.rootToken, json: ["tag_list": [String](), "run_untagged": false, "description": "renamed", "paused": true])
            #expect(untaggable.status == .badRequest, "\(untaggable.text)")
            let unchanged = try await client.api(.get, "runners/\(secondID)", token: server.rootToken).object
            #expect(unchanged["tag_list"] as? [String] == ["gpu", "linux"])
            #expect(unchanged["description"] as? String != "renamed" && unchanged["paused"] as? Bool == false, "a refused update changes nothing")
            #expect(try await client.api(.put, "runners/\(secondID)", token: server.rootToken, json: ["paused": true, "active": true]).status == .badRequest)
            #expect(try await client.api(.put, "runners/\(secondID)", token: server.rootToken, json: [:]).status == .badRequest)

            let secondToken = try #require(second.string("token"))
            #expect(try await client.api(.delete, "runners/\(secondID)", token: server.rootToken).status == .noContent)
            #expect(try await client.api(.post, "runners/verify", json: ["token": secondToken]).status == .forbidden)
            #expect(try await client.api(.get, "runners/\(secondID)", token: server.rootToken).status == .notFound)
        }
    }

    @Test("runner status follows GitLab: never contacted, online for two hours, offline, stale after a week")
    func status() {
        let now = Date()
        func runner(contacted: TimeInterval?, created: TimeInterval = -60) -> Runner {
            Runner(
                id: 1, description: "", tags: [], runUntagged: true, locked: false, active: true, embedded: false, version: "",
                contactedAt: contacted.map { now.addingTimeInterval($0) }, createdAt: now.addingTimeInterval(created), tokenNonce: "")
        }
        #expect(RunnerStatus(runner(contacted: nil), now: now) == .neverContacted)
        #expect(RunnerStatus(runner(contacted: nil, created: -8 * 86400), now: now) == .stale)
        #expect(RunnerStatus(runner(contacted: -60), now: now) == .online)
        #expect(RunnerStatus(runner(contacted: -3 * 3600), now: now) == .offline)
        #expect(RunnerStatus(runner(contacted: -8 * 86400), now: now) == .stale)
    }
}
