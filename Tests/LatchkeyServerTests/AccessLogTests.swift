import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyTestSupport
import Testing

@Suite("Access log")
struct AccessLogTests {
    @Test("every answer carries an X-Request-Id: the caller's when it is short and plain, else a fresh one")
    func requestIDs() async throws {
        try await withTestServer { server, client in
            let fresh = try await client.api(.get, "version", token: server.rootToken)
            let id = try #require(fresh.headers[HTTPField.Name("X-Request-Id")!])
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
            let kept = try await client.api(.get, "version", token: server.rootToken, headers: [HTTPField.Name("X-Request-Id")!: "proxy-id_42"])
            #expect(kept.headers[HTTPField.Name("X-Request-Id")!] == "proxy-id_42")
            for bad in ["a b", String(repeating: "x", count: 65), "id;rm", "ü"] {
                let replaced = try await client.api(.get, "version", token: server.rootToken, headers: [HTTPField.Name("X-Request-Id")!: bad])
                #expect(replaced.headers[HTTPField.Name("X-Request-Id")!] != bad)
            }
            let missing = try await client.api(.get, "no/such/route")
            #expect(missing.status == .notFound)
            #expect(missing.headers[HTTPField.Name("X-Request-Id")!] != nil, "errors carry the id too")
        }
    }
}
