import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyCore
import LatchkeyServer
import LatchkeyTestSupport
import NIOCore
import Testing

/// Every route the router has, fed malformed ids, odd path segments, malformed queries and bodies of the wrong kind,
/// as an administrator, an ordinary user, a running job and anonymously: no answer is a 5xx (issue 10).
@Suite("Route-wide bad input")
struct RouteWideBadInputTests {
    /// What goes where a route captures a value.
    static let badSegments = ["-1", "99999999999999999999", "%00", "..", "%2E%2E%2F", "%FF", "0", "a%20b", "1.5", "%E2%80%AE", String(repeating: "9", count: 400)]
    static let badQueries = [
        "page=-1&per_page=99999999999999999999", "page=%00&per_page=abc", "id=%FF&ref=..%2F..&sort=%", "scope[]=%00&scope[]=&order_by=zzz",
        "expire_in=9300000000000000&start_in=-1", "search=%ZZ&private=maybe", String(repeating: "a=1&", count: 2000),
    ]

    /// A body and its content type; each unlike what any route wants.
    static let badBodies: [(name: String, contentType: String, bytes: [UInt8])] = [
        ("a JSON array", "application/json", Array("[1, {\"name\": []}]".utf8)),
        ("invalid JSON", "application/json", Array("{\"name\": ".utf8)),
        ("JSON of wrong types", "application/json", Array("{\"id\": \"x\", \"name\": 5, \"variables\": \"no\", \"ref\": [], \"visibility\": {}, \"expires_at\": -1}".utf8)),
        ("invalid UTF-8 as JSON", "application/json", [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0xC0, 0x80, 0x7D]),
        ("invalid UTF-8 as a form", "application/x-www-form-urlencoded", Array("name=%FF%FE&%ZZ=1&=&&ref".utf8) + [0xFF, 0xC0]),
        ("multipart without a boundary", "multipart/form-data", Array("--x\r\n\r\n".utf8)),
        ("deeply nested JSON", "application/json", Array((String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)).utf8)),
    ]

    /// The route's path with every capture and wildcard replaced by `segment`.
    static func path(_ route: String, with segment: String) -> String {
        route.split(separator: "/", omittingEmptySubsequences: false).map { part -> String in
            if part == "**" || part == "*" { return segment }
            guard let open = part.firstIndex(of: "{"), let close = part.firstIndex(of: "}") else { return String(part) }
            return String(part[..<open]) + segment + String(part[part.index(after: close)...])
        }.joined(separator: "/")
    }

    struct Caller: Sendable {
        let name: String
        let token: String?
        var header = "PRIVATE-TOKEN"
    }

    /// Sends one request; records it when the answer is a 5xx.
    static func send(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, caller: Caller, contentType: String? = nil, body: [UInt8]? = nil,
        findings: inout [String], count: inout Int, statuses: inout [Int: Int]
    ) async throws {
        var headers = HTTPFields()
        if let token = caller.token { headers[HTTPField.Name(caller.header)!] = token }
        if let contentType { headers[.contentType] = contentType }
        let status = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) }) { $0.status }
        count += 1
        statuses[status.code, default: 0] += 1
        if status.code >= 500 {
            findings.append("\(status.code) \(caller.name) \(method) \(uri.prefix(160))\(body.map { " body \($0.count) bytes \(contentType ?? "")" } ?? "")")
        }
    }

    @Test("no route answers 5xx to malformed ids, segments, queries or bodies, for an administrator, a user, a job token or anonymously")
    func noServerErrors() async throws {
        try await withTestServer { server, client in
            let routes = try await buildRouter(environment: server.environment).routes.sorted { ($0.method == .delete ? 1 : 0) < ($1.method == .delete ? 1 : 0) }
            #expect(routes.count > 100, "the router lists \(routes.count) routes")
            let (_, userToken) = try await server.makeUser("plain")
            // Something to find: ids 1 are a real project, group and pipeline owner, so handlers go past their lookups.
            _ = try await client.api(.post, "projects", token: server.rootToken, json: ["name": "target", "visibility": "public"])
            _ = try await client.api(.post, "groups", token: server.rootToken, json: ["name": "g", "path": "g"])
            let job = try await client.runningJob(server, projectID: 1, userToken: server.rootToken)
            // Least privilege first, so the administrator's deletes (DELETE routes come last too) take nothing from the others' runs.
            let callers = [
                Caller(name: "anonymous", token: nil), Caller(name: "user", token: userToken), Caller(name: "job", token: job.token, header: "JOB-TOKEN"),
                Caller(name: "admin", token: server.rootToken),
            ]
            var findings: [String] = []
            var count = 0
            var statuses: [Int: Int] = [:]
            for route in routes {
                let template = route.path.description.hasPrefix("/") ? route.path.description : "/" + route.path.description
                let hasCapture = template.contains("{") || template.contains("*")
                let writes = [.post, .put, .patch, .delete].contains(route.method)
                for caller in callers {
                    for segment in hasCapture ? Self.badSegments : ["1"] {
                        try await Self.send(client, route.method, Self.path(template, with: segment), caller: caller, findings: &findings, count: &count, statuses: &statuses)
                    }
                    for query in Self.badQueries {
                        try await Self.send(client, route.method, Self.path(template, with: "1") + "?" + query, caller: caller, findings: &findings, count: &count, statuses: &statuses)
                    }
                    guard writes || route.method == .get else { continue }
                    for body in Self.badBodies {
                        try await Self.send(
                            client, route.method, Self.path(template, with: "1"), caller: caller, contentType: body.contentType, body: body.bytes,
                            findings: &findings, count: &count, statuses: &statuses)
                    }
                }
                if writes {
                    // A body far over any JSON route's limit: 413 (or a refusal before reading), never a 5xx.
                    let huge = [UInt8](repeating: UInt8(ascii: "a"), count: 12 << 20)
                    try await Self.send(
                        client, route.method, Self.path(template, with: "1"), caller: callers[3], contentType: "application/json", body: huge,
                        findings: &findings, count: &count, statuses: &statuses)
                }
            }
            // Odd paths no route names exactly: traversal, encoded slashes, empty segments, NULs.
            for odd in ["/api/v4/projects/../../etc/passwd", "/api/v4//projects", "/api/v4/projects/%2F%2F", "/api/v4/projects/1/../../users", "/%00", "/api/v4/%FF"]
            {
                for caller in callers { try await Self.send(client, .get, odd, caller: caller, findings: &findings, count: &count, statuses: &statuses) }
            }
            // Web pages and git smart HTTP answer what no route matched: their paths by hand, with the same bad bodies.
            let webPaths = [
                "/", "/users/sign_in", "/users/sign_out", "/admin", "/admin/application_settings/ci_cd", "/root/target", "/root/target/-/jobs/%FF",
                "/root/target/-/jobs/99999999999999999999", "/root/target/-/pipelines/-1", "/root/target/-/settings/ci_cd", "/%FF/%FF",
                "/root/target.git/info/refs?service=%00", "/root/target.git/info/refs?service=git-upload-pack", "/root/target.git/git-upload-pack",
                "/root/target.git/git-receive-pack", "/root/../target.git/info/refs?service=git-upload-pack", "/g", "/g/-/jobs/1",
            ]
            for path in webPaths {
                for caller in callers {
                    try await Self.send(client, .get, path, caller: caller, findings: &findings, count: &count, statuses: &statuses)
                    for body in Self.badBodies {
                        try await Self.send(
                            client, .post, path, caller: caller, contentType: body.contentType, body: body.bytes, findings: &findings, count: &count,
                            statuses: &statuses)
                    }
                }
            }
            #expect(findings.isEmpty, "\(findings.count) of \(count) requests answered 5xx:\n\(findings.joined(separator: "\n"))")
            // The requests reach the handlers: some succeed, most are refused in GitLab's shapes (a test of nothing but 404s proves nothing).
            #expect(statuses.filter { (200..<300).contains($0.key) }.values.reduce(0, +) > 100, "\(statuses)")
            #expect(statuses[400, default: 0] > 100 && statuses[404, default: 0] > 100, "\(statuses)")
            print("route-wide bad input: \(routes.count) routes, \(count) requests, \(findings.count) answered 5xx; statuses \(statuses.sorted { $0.key < $1.key })")
            print(routes.prefix(5).map(\.description).joined(separator: ", "))
        }
    }
}
