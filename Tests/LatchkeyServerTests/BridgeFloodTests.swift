import Foundation
import HummingbirdTesting
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

/// A file that fans out (a matrix of bridges including themselves) stays within the tree's limits at little cost, and never holds
/// back another project's bridges.
@Suite("Bridge floods")
struct BridgeFloodTests {
    static let fan = "fan:\n  parallel: {matrix: [{N: [a, b, c, d, e, f]}]}\n  trigger: {include: ci/fan.yml}\n"

    @Test("a self-including matrix of bridges fills its tree once: the rest is refused in one pass, the projects take turns", arguments: TestBackend.all)
    func flood(backend: TestBackend) async throws {
        try await withTestServer(backend, configure: { $0.pipelineLimits = CIPipelineLimits(maximumJobs: 10_000, maximumNeeds: 50, maximumHierarchySize: 12) }) {
            server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (_, bob) = try await server.makeUser("bob")
            let flood = try await client.createProject(["name": "flood"], token: alice)
            try GitFixtures.commit([".gitlab-ci.yml": Self.fan, "ci/fan.yml": Self.fan], to: server.environment.repositories.path(projectID: flood.id))
            let other = try await client.createProject(["name": "other"], token: bob)
            try GitFixtures.commit(
                [".gitlab-ci.yml": "go: {trigger: {include: ci/child.yml}}\n", "ci/child.yml": "work: {script: [make]}\n"],
                to: server.environment.repositories.path(projectID: other.id))
            let root = try await client.api(.post, "projects/\(flood.id)/pipeline", token: alice, json: ["ref": "main"])
            #expect(try await client.api(.post, "projects/\(other.id)/pipeline", token: bob, json: ["ref": "main"]).status == .created)

            let starter = DownstreamPipelinesTests.starter(server)
            var claims = 0
            var lastProject: Int64?
            while let bridge = try await server.store.jobs.claimPendingBridge(after: lastProject) {
                claims += 1
                lastProject = bridge.projectID
                await starter.start(bridge)
            }
            // 72 bridges in all (6 in the root, 36 in its children, 30 in the grandchildren the limit let in): 6 claims fill the first
            // level, 5 the second, one more finds the tree full and ends the other 60 with it, one is bob's.
            #expect(claims == 13, "\(claims)")

            // Bob's bridge was taken second, before the flood's later bridges, though it was queued after all six of the root's.
            let children = try await client.api(.get, "projects/\(other.id)/pipelines?source=parent_pipeline", token: bob).array
            #expect(children.count == 1)
            #expect(children.first?.id == root.id + 3, "\(children.map(\.id)) after root \(root.id)")

            let pipelines = try await client.api(.get, "projects/\(flood.id)/pipelines?per_page=100", token: alice).array
            #expect(pipelines.count == 12, "the tree never grows past its limit")
            var reasons: [String: Int] = [:]
            for pipeline in pipelines {
                for bridge in try await client.api(.get, "projects/\(flood.id)/pipelines/\(pipeline.id)/bridges?per_page=100", token: alice).array {
                    reasons["\(bridge["status"] as? String ?? "")/\(bridge["failure_reason"] as? String ?? "")", default: 0] += 1
                }
            }
            #expect(
                reasons == [
                    "success/": 11, "failed/reached_max_pipeline_hierarchy_size": 31, "failed/reached_max_descendant_pipelines_depth": 30,
                ], "\(reasons)")
            // Every pipeline of the tree has ended: none waits on a bridge left pending.
            for pipeline in pipelines {
                let status = try await client.api(.get, "projects/\(flood.id)/pipelines/\(pipeline.id)", token: alice).string("status")
                #expect(["success", "failed"].contains(status ?? ""), "\(pipeline.id): \(status ?? "nil")")
            }
        }
    }
}
