import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

/// docs/job-token-routes.md is made from the job-token route registrations themselves, so it cannot drift from the code.
@Suite("The job-token route table")
struct JobTokenRouteTableTests {
    static func registeredRoutes(_ server: TestServer) -> [String] {
        let router = Router(context: AppRequestContext.self)
        let triggers = PipelineTriggerController(environment: server.environment, creator: PipelineCreator(environment: server.environment, queue: JobQueue()))
        JobTokenRoutes.add(to: router.group("api/v4"), environment: server.environment, triggers: triggers)
        return router.routes.map { "\($0.method.rawValue) \($0.path)" }
    }

    @Test("every registered job-token route has an entry saying what a job token may do there, and every entry a route")
    func everyRouteDescribed() async throws {
        try await withTestServer { server, _ in
            let routes = Self.registeredRoutes(server)
            let described = Set(JobTokenRoutes.access.keys)
            #expect(Set(routes).subtracting(described).sorted() == [], "routes without an entry")
            #expect(described.subtracting(routes).sorted() == [], "entries without a route")
        }
    }

    @Test("docs/job-token-routes.md is the table the registrations make (LATCHKEY_WRITE_ROUTE_TABLE=1 rewrites it)")
    func documentedTable() async throws {
        try await withTestServer { server, _ in
            let table = JobTokenRoutes.markdown(routes: Self.registeredRoutes(server))
            let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("docs/job-token-routes.md")
            if ProcessInfo.processInfo.environment["LATCHKEY_WRITE_ROUTE_TABLE"] == "1" { try Data(table.utf8).write(to: file) }
            let documented = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            #expect(documented == table, "docs/job-token-routes.md is stale: run LATCHKEY_WRITE_ROUTE_TABLE=1 swift test --filter JobTokenRouteTableTests")
        }
    }
}
