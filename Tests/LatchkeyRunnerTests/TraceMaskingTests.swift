import Foundation
import LatchkeyCore
import Testing

@testable import LatchkeyRunner

@Suite("Trace masking and streaming")
struct TraceMaskingTests {
    static let secret = "s3cr3t-VALUE-0123456789"

    @Test("Masked variables and the job token never reach the server, even printed a few bytes at a time by separate processes")
    func maskedVariablesNeverLeak() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let secret = Self.secret
        let pieces = stride(from: 0, to: secret.count, by: 3).map { String(secret.dropFirst($0).prefix(3)) }
        let script =
            pieces.map { "printf '%s' '\($0)'" } + [
                "echo",
                "echo \"plain:$MY_SECRET\"",
                "echo \"token:$CI_JOB_TOKEN\"",
                "printf '%s' \"$MY_SECRET\" | base64",
                "echo glpat-abcdefghijklmnop0123",
            ]
        let job = JobFixtures.job(script: script, variables: [JobVariable(key: "MY_SECRET", value: secret, public: false, masked: true)])
        let outcome = await fixtures.executor().run(job)
        #expect(outcome.state == .success)
        let trace = await fixtures.api.traceText
        #expect(!trace.contains(secret))
        #expect(!trace.contains(Data(secret.utf8).base64EncodedString().prefix(20)))
        #expect(!trace.contains(job.token))
        #expect(!trace.contains("abcdefghijklmnop0123"))
        #expect(trace.contains("plain:[MASKED]"))
        #expect(trace.contains("token:[MASKED]"))
        #expect(trace.contains("glpat-[MASKED]"))
        // No single patch leaks it either (they are what crosses the network).
        for patch in await fixtures.api.patches {
            #expect(!patch.bytes.text.contains(secret))
        }
    }

    @Test("The runner's own token is masked in the trace")
    func runnerTokenMasked() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        // Printed base64-encoded, the token has no recognisable prefix left: only the runner's own secret list can catch it.
        let encoded = Data(fixtures.configuration.token.utf8).base64EncodedString()
        let outcome = await fixtures.executor().run(JobFixtures.job(script: ["printf '%s' '\(fixtures.configuration.token)' | base64"]))
        #expect(outcome.state == .success)
        let trace = await fixtures.api.traceText
        #expect(!trace.contains(encoded.prefix(24)))
        #expect(trace.contains("[MASKED]"))
    }

    @Test("Patches have contiguous ranges of at most 1 MiB and the server's copy equals the local one")
    func chunking() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let trace = try TraceStream(
            jobID: 1, jobToken: "glcbt-x", rules: SecretMaskingRules(secrets: []), directory: fixtures.directory, api: fixtures.api,
            settings: fixtures.settings)
        let block = Array(repeating: UInt8(ascii: "a"), count: 700 << 10)
        await trace.write(block)
        await trace.write(block)
        await trace.write(block)
        await trace.finishMasking()
        let result = await trace.sendPending()
        #expect(result.complete)
        let patches = await fixtures.api.patches
        #expect(patches.count == 3)
        var expectedOffset = 0
        for patch in patches {
            #expect(patch.offset == expectedOffset)
            #expect(patch.bytes.count <= 1 << 20)
            expectedOffset += patch.bytes.count
        }
        #expect(expectedOffset == 3 * (700 << 10))
        #expect(await fixtures.api.trace == (try await trace.contents()))
    }

    @Test("After a 416 the runner resends from the offset the server reports")
    func resumeAfter416() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let trace = try TraceStream(
            jobID: 1, jobToken: "glcbt-x", rules: SecretMaskingRules(secrets: []), directory: fixtures.directory, api: fixtures.api,
            settings: fixtures.settings)
        await trace.write("first part of the trace\n")
        _ = await trace.sendPending()
        // The server lost the last 5 bytes; the next patch starts beyond its size.
        await fixtures.api.loseTail(5)
        await trace.write("second part\n")
        let result = await trace.sendPending()
        #expect(result.complete)
        let patches = await fixtures.api.patches
        #expect(patches.map(\.offset) == [0, 24, 19])
        #expect(await fixtures.api.traceText == "first part of the trace\nsecond part\n")
        #expect(await trace.sentOffset == 36)
    }

    @Test("The trace stops at the limit on a UTF-8 boundary, with a notice, and the job goes on")
    func truncation() async throws {
        var fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        fixtures.settings.traceLimit = 101
        let trace = try TraceStream(
            jobID: 1, jobToken: "glcbt-x", rules: SecretMaskingRules(secrets: []), directory: fixtures.directory, api: fixtures.api,
            settings: fixtures.settings)
        await trace.write(String(repeating: "é", count: 80))
        await trace.write("more that is dropped")
        let contents = try await trace.contents()
        #expect(await trace.truncated)
        let text = try #require(String(validating: contents, as: UTF8.self))
        #expect(text.hasPrefix(String(repeating: "é", count: 50) + "\n"))
        #expect(text.contains("Job's log exceeded limit of 101 bytes."))
        #expect(!text.contains("more that is dropped"))
    }

    @Test("A job printing more than the limit is still reported, with the truncated trace's checksum")
    func jobWithLongOutput() async throws {
        var fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        fixtures.settings.traceLimit = 64 << 10
        let outcome = await fixtures.executor().run(JobFixtures.job(script: ["head -c 300000 /dev/zero | tr '\\0' 'a'", "echo", "echo done"]))
        #expect(outcome.state == .success)
        #expect(outcome.reported)
        let serverTrace = await fixtures.api.trace
        #expect(serverTrace.count < (64 << 10) + 300)
        #expect(serverTrace.text.contains("exceeded limit"))
        #expect(await fixtures.api.finalUpdates.last?.output?.checksum == CRC32.checksum(serverTrace))
    }

    @Test("UTF-8 truncation never splits a character", arguments: [0, 1, 2, 3, 4, 5, 6, 7])
    func utf8Prefix(length: Int) {
        let bytes = Array("a€😀".utf8)  // 1 + 3 + 4 bytes
        let prefix = TraceStream.utf8Prefix(bytes, maxLength: length)
        #expect(prefix.count <= length)
        #expect(String(validating: prefix, as: UTF8.self) != nil)
        let expected = [0, 1, 1, 1, 4, 4, 4, 4][length]
        #expect(prefix.count == expected)
    }
}
