import Foundation
import Hummingbird
import Testing

@testable import LatchkeyServer

@Suite("CGI child (git http-backend)")
struct CGIProcessTests {
    @Test("a child that writes no header block within 64 KiB, or a megabytes-long body before its input is in, ends with 502")
    func boundedHead() async throws {
        let endless = try await CGIProcess.start(command: ["/bin/sh", "-c", "head -c 200000 /dev/zero"], environment: [:])
        await #expect(throws: HTTPError.self) { try await endless.readHead { false } }
        endless.terminate()
        let early = try await CGIProcess.start(command: ["/bin/sh", "-c", "printf 'Status: 200 OK\\r\\n\\r\\n'; head -c 10000000 /dev/zero"], environment: [:])
        do {
            _ = try await early.readHead { false }
            Issue.record("a head with 10 MB of body before the input ended was accepted")
        } catch let error as HTTPError {
            #expect(error.status == .badGateway)
        }
        early.terminate()
        let fine = try await CGIProcess.start(command: ["/bin/sh", "-c", "printf 'Status: 404 Not Found\\r\\nX-A: b\\r\\n\\r\\nbody'"], environment: [:])
        let head = try await fine.readHead { true }
        #expect(head.status == .notFound)
        #expect(head.headers[.init("X-A")!] == "b")
    }
}
