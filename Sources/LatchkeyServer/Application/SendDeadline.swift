import Hummingbird
import NIOCore

/// Closes a connection whose client stops reading a streamed response (nginx's `send_timeout`): one write that waits longer
/// than `limit` for the client ends the connection, and with it the body and the git process behind it.
///
/// The idle timeout cannot see this: a request whose head and body are all read counts as being answered, so a client that
/// asks for a clone and never reads would hold its connection, `git upload-pack` and `pack-objects` for as long as it liked.
struct SendDeadline: Sendable {
    let connection: any Channel
    let limit: Duration

    /// Writes `chunk`, closing the connection if the client has not taken it within the limit (the write then fails).
    func write(_ chunk: ByteBuffer, to writer: inout any ResponseBodyWriter) async throws {
        let connection = connection, limit = limit
        let watchdog = Task {
            try await Task.sleep(for: limit)
            connection.close(promise: nil)
        }
        defer { watchdog.cancel() }
        try await writer.write(chunk)
    }
}
