import Foundation
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// A client holding thousands of silent connections (slowloris) would use up the server's descriptors; each is closed after the
/// idle timeout, while a request the server is answering slowly (a runner's long poll) is never cut.
@Suite("Idle connections are closed")
struct IdleConnectionTests {
    @Test("silent connections, half-sent heads and stalled bodies are closed; a long poll longer than the timeout is answered")
    func idleConnections() async throws {
        // `client`'s own keep-alive connection is closed too once it idles past the timeout: the test makes its own connections.
        try await withLiveTestServer(longPoll: .seconds(5), idleTimeout: .seconds(2)) { server, _, port, _ in
            let token = try await server.environment.embeddedRunnerToken()
            let silent = try RawConnection(port: port)
            let halfHead = try RawConnection(port: port, head: "GET /api/v4/version HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            let stalledBody = try RawConnection(
                port: port, head: "POST /api/v4/projects HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n",
                bodyPrefix: Array("{\"name\":".utf8))
            for (name, connection) in [("silent", silent), ("half head", halfHead), ("stalled body", stalledBody)] {
                try await Self.poll("the \(name) connection to be closed") { connection.isClosed() }
            }

            let polling = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(60)))
            polling.connect()
            let answer = try await polling.execute(AbandonedLongPollTests.request(token))
            #expect(answer.status == .noContent, "the long poll ran its five seconds and ended with no job")
            try await polling.shutdown()
        }
    }

    static func poll(_ what: String, _ condition: @Sendable () async throws -> Bool) async throws {
        try await AbandonedLongPollTests.poll(what, condition)
    }
}
