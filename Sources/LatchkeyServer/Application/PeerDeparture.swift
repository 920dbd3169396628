import Hummingbird
import HummingbirdCore
import NIOCore
import Synchronization

/// Whether the client of one HTTP connection has gone (it shut its side or the connection dropped), for long polls that must
/// not hand work to nobody: a job claimed for a runner that left would stay running, its token live, until the reaper.
///
/// Set by `PeerDepartureHandler` on the connection's event loop, read and awaited by request handlers.
final class PeerDeparture: Sendable {
    private struct State {
        var gone = false
        var nextID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waits cancelled before they parked: they must not park at all.
        var cancelled: Set<UInt64> = []
    }

    private let state = Mutex(State())

    /// True once the client has gone.
    var hasLeft: Bool { state.withLock(\.gone) }

    func markGone() {
        let waiters = state.withLock { state in
            state.gone = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters.values { waiter.resume() }
    }

    /// Returns once the client has gone, or when the calling task is cancelled.
    func untilGone() async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state in
                    if state.gone || state.cancelled.remove(id) != nil { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                if let waiter = state.waiters.removeValue(forKey: id) { return Optional(waiter) }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.resume()
        }
        _ = state.withLock { $0.cancelled.remove(id) }
    }
}

/// Sits in every HTTP connection's pipeline (after the HTTP codec) and marks its `PeerDeparture` when the client shuts its
/// side (`inputClosed`: the server allows half-closure, so the connection itself stays open until the answer is written) or
/// the connection ends. Everything else passes through untouched.
final class PeerDepartureHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    let departure = PeerDeparture()

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { departure.markGone() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        departure.markGone()
        context.fireChannelInactive()
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 as `serve` runs it: each connection watched for its client leaving (`PeerDepartureHandler`), and closed when it
    /// stays silent for `idleTimeout` mid-request or between requests.
    public static func latchkey(idleTimeout: Duration) -> HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [PeerDepartureHandler()], idleTimeout: .nanoseconds(Int64(idleTimeout.components.seconds) * 1_000_000_000)))
    }
}

extension AppRequestContext {
    /// Tells whether this request's client is still there; nil where connections are not watched (in-process router tests).
    func peerDeparture() async -> PeerDeparture? {
        try? await connection.pipeline.handler(type: PeerDepartureHandler.self).map { $0.departure }.get()
    }
}
