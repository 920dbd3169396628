import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyTestSupport
import NIOCore
import Testing

@testable import LatchkeyServer

/// The small parsers of request headers and query strings, fed hostile text (issue 10) and gitlab-runner's spellings (issue 19).
@Suite("Request parsing")
struct RequestParsingTests {
    @Test(
        "a Range header reads one satisfiable range of the file, or is ignored",
        arguments: [
            ("bytes=0-9", 0...9), ("bytes=5-", 5...99), ("bytes=-10", 90...99), ("bytes=-1000", 0...99), ("bytes=90-1000", 90...99),
            ("bytes=99-99", 99...99),
        ] as [(String, ClosedRange<Int64>)]
    )
    func range(_ header: String, _ expected: ClosedRange<Int64>) {
        #expect(ArtifactResponse.parseRange(header, size: 100) == expected)
    }

    @Test(
        "hostile Range headers are ignored, never a trap",
        arguments: [
            "bytes=", "bytes=-", "bytes=-0", "bytes=100-", "bytes=5-3", "bytes=a-b", "bytes=0-9,20-29", "bytes=--5", "bytes=-5-",
            "bytes=99999999999999999999-", "bytes=0-99999999999999999999", "bytes=-9223372036854775807", "bytes=-9223372036854775808",
            "bytes=9223372036854775807-9223372036854775807", "items=0-9", "bytes=+5-9", "", "bytes=0--1",
        ]
    )
    func hostileRange(_ header: String) {
        let parsed = ArtifactResponse.parseRange(header, size: 100)
        if let parsed { #expect(parsed.lowerBound >= 0 && parsed.upperBound < 100) }
        #expect(ArtifactResponse.parseRange(header, size: 0) == nil)
        _ = ArtifactResponse.parseRange(header, size: .max)
    }

    @Test("query strings decode + as a space and %2B as a plus; a repeated name keeps its last value")
    func query() {
        let query = QueryString("expire_in=1+week&name=a%2Bb&x=1&x=2&bad=%zz&empty=&flag")
        #expect(query.get("expire_in") == "1 week")
        #expect(query.get("name") == "a+b")
        #expect(query.get("x") == "2")
        #expect(query.get("bad") == "%zz")
        #expect(query.get("empty") == "")
        #expect(query.get("flag") == "")
        #expect(query.get("missing") == nil)
        #expect(QueryString(nil).get("x") == nil)
    }

    @Test("a JSON body nested 3,000 deep, or with a number like 1e300 where a string goes, answers 4xx, not a crash")
    func hostileJSON() async throws {
        try await withTestServer { server, client in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            let deep = String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000)
            let nested = try await client.execute(
                uri: "/api/v4/runners/verify", method: .post, headers: headers, body: ByteBuffer(string: "{\"token\": \(deep)}")) { $0.status }
            #expect(nested.code >= 400 && nested.code < 500)
            let huge = try await client.api(.post, "runners/verify", json: ["token": 1e300])
            #expect(huge.status == .forbidden)
            let named = try await client.api(.post, "projects", token: server.rootToken, json: ["name": 1e300])
            #expect(named.status.code < 500)
        }
    }
}
