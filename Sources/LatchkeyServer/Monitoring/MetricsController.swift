import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStore
import NIOCore

/// `GET /-/metrics`: the Prometheus text format, for a scraper on this host or an administrator's token.
///
/// GitLab answers its metrics to an IP allowlist (loopback by default). Behind a reverse proxy every request comes from
/// loopback, so a request that a proxy forwarded (`X-Forwarded-For`, `Forwarded`, `X-Real-IP`) does not count as local:
/// it needs an administrator's personal access token, like any caller from elsewhere.
struct MetricsController {
    let store: Store
    let authenticator: Authenticator

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self).get("-/metrics", use: metrics)
    }

    @Sendable func metrics(_ request: Request, context: AppRequestContext) async throws -> Response {
        let local = Self.isDirectLoopback(context.remoteAddress?.ipAddress, headers: request.headers)
        var actor = Actor.anonymous
        if !local {
            do { actor = try await authenticator.actor(for: request, sources: .personalToken) } catch { throw error.routeError }
        }
        switch AccessPolicy.mayReadMetrics(actor, fromLocalHost: local) {
        case .allowed: break
        case .denied(let denial): throw APIError.from(denial, resource: "Metrics")
        }
        var text = ServerMetrics.registry.emitToBuffer()
        // Gauges read at scrape time, so a scrape sees the database's state, shared by every instance.
        let depth = try await store.jobs.queueDepth()
        text += Array("# TYPE latchkey_jobs gauge\n".utf8)
        for (status, count) in depth.sorted(by: { $0.key < $1.key }) {
            text += Array("latchkey_jobs{status=\"\(status)\"} \(count)\n".utf8)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
    }

    static func isDirectLoopback(_ address: String?, headers: HTTPFields) -> Bool {
        guard let address, FailedAttemptThrottle.isLoopback(address) else { return false }
        let forwarded = ["X-Forwarded-For", "Forwarded", "X-Real-IP"].compactMap { HTTPField.Name($0) }
        return forwarded.allSatisfy { headers[$0] == nil }
    }
}
