import Foundation
import HTTPTypes
import LatchkeyCore
import Hummingbird
import NIOCore
import Synchronization

/// A CGI child process (git http-backend) with streaming stdin and stdout.
final class CGIProcess: Sendable {
    /// The CGI response head, and whatever body bytes arrived with it.
    struct Head: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var leftover: ByteBuffer
    }

    static let maximumHeadLength = 64 << 10
    static let maximumEarlyOutput = 8 << 20

    private let process: Subprocess
    private let input: PipeWriter
    private let output: PipeReader

    /// Starts the child; its pipes are served by event loops, so a slow client or a slow child holds no thread.
    static func start(command: [String], environment: [String: String]) async throws -> CGIProcess {
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        env.merge(environment) { $1 }
        let process = try Subprocess(command, environment: env, input: .pipe, output: .pipe, error: .null)
        guard let inputDescriptor = process.takeInputDescriptor(), let outputDescriptor = process.takeOutputDescriptor() else {
            process.signal(SIGTERM)
            throw Subprocess.Failure(operation: "pipes of child \(process.pid)", code: EBADF)
        }
        // A failed bootstrap may or may not have closed its descriptor already (it depends on how far it got), so that one is
        // never closed here (a double close would hit a descriptor the event loops reuse); one NIO never saw is. SIGTERM, not
        // SIGKILL: started through the `git` wrapper (no setpriv), the wrapper passes it on to http-backend.
        let input: PipeWriter
        do {
            input = try await PipeWriter.open(inputDescriptor)
        } catch {
            Foundation.close(outputDescriptor)
            process.signal(SIGTERM)
            throw error
        }
        do {
            return CGIProcess(process: process, input: input, output: try await PipeReader.open(outputDescriptor))
        } catch {
            await input.close()
            process.signal(SIGTERM)
            throw error
        }
    }

    private init(process: Subprocess, input: PipeWriter, output: PipeReader) {
        self.process = process
        self.input = input
        self.output = output
    }

    /// Writes the chunk to the child's stdin; false once the child has closed it (it answered without reading everything,
    /// as `git http-backend` does for a request it refuses): the rest of the body is not needed, and that is no error.
    func write(_ buffer: ByteBuffer) async throws -> Bool {
        try await input.write(buffer)
    }

    func closeInput() async { await input.close() }

    /// The next chunk of stdout, or nil at its end; never empty.
    func read() async throws -> ByteBuffer? {
        while true {
            guard let chunk = try await output.read() else { return nil }
            if chunk.readableBytes > 0 { return chunk }
        }
    }

    /// Tells `readHead` that the request body is all written, so it stops waiting for more output once it has the head.
    func inputFinished() {
        output.interrupt()
    }

    /// Reads the CGI header block; keeps buffering body bytes until `inputFinished()` says the request is fully written.
    ///
    /// Reading on while the request streams in keeps git from blocking on a full stdout pipe while we block on its stdin;
    /// `inputFinished()` wakes the wait, so a head that came early is not held until git next writes (a push's hooks can
    /// keep it silent for seconds).
    ///
    /// Bounded: a head longer than `maximumHeadLength`, or more than `maximumEarlyOutput` of body before the request is in,
    /// is no stateless git exchange (http-backend answers a request once it has read it) and ends the request with 502.
    func readHead(inputFinished: @Sendable () -> Bool) async throws -> Head {
        var buffer = ByteBuffer()
        var parsed: (HTTPResponse.Status, HTTPFields, Int)?
        while true {
            if parsed == nil { parsed = Self.parseHead(buffer) }
            if parsed != nil, inputFinished() { break }
            if parsed == nil ? buffer.readableBytes > Self.maximumHeadLength : buffer.readableBytes > Self.maximumEarlyOutput {
                throw HTTPError(.badGateway, message: "git backend answered out of turn")
            }
            guard var chunk = try await output.read() else { break }
            buffer.writeBuffer(&chunk)
        }
        guard let (status, headers, length) = parsed ?? Self.parseHead(buffer) else {
            return Head(status: .internalServerError, headers: [.contentType: "text/plain"], leftover: ByteBuffer(string: "git backend failed"))
        }
        buffer.moveReaderIndex(forwardBy: length)
        return Head(status: status, headers: headers, leftover: buffer)
    }

    static func parseHead(_ buffer: ByteBuffer) -> (HTTPResponse.Status, HTTPFields, Int)? {
        let bytes = Array(buffer.readableBytesView)
        var end: Int?
        var separatorLength = 0
        for index in bytes.indices {
            if index + 3 < bytes.count, bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 {
                end = index
                separatorLength = 4
                break
            }
            if index + 1 < bytes.count, bytes[index] == 10, bytes[index + 1] == 10 {
                end = index
                separatorLength = 2
                break
            }
        }
        guard let end else { return nil }
        var status = HTTPResponse.Status.ok
        var headers = HTTPFields()
        let text = String(decoding: bytes[0..<end], as: UTF8.self)
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name.lowercased() == "status" {
                if let code = Int(value.prefix(3)) { status = HTTPResponse.Status(code: code) }
            } else if let field = HTTPField.Name(name) {
                headers.append(HTTPField(name: field, value: value))
            }
        }
        return (status, headers, end + separatorLength)
    }

    func terminate() {
        output.close()
        process.signal(SIGTERM)
    }

    /// A process dropped while git still runs (its request failed before the response began) is ended, not left to spin:
    /// git's http-backend loops on a request body that ends short of its Content-Length.
    deinit {
        if process.isRunning { process.signal(SIGTERM) }
    }

    func wait() async -> Int32 {
        let process = process
        return (try? await Git.pool.runIfActive { process.waitForExit() }) ?? -1
    }
}

/// A flag one task sets and another polls.
final class CompletionFlag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}
