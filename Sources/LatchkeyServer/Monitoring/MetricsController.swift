import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStore
import NIOCore

/// `GET /-/metrics`: the Prometheus text format, for an administrator's token (`AccessPolicy.mayReadMetrics` says why not loopback).
struct MetricsController {
    let store: Store
    let authenticator: Authenticator

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self).get("-/metrics", use: metrics)
    }

    @Sendable func metrics(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor: Actor
        do { actor = try await authenticator.actor(for: request, sources: .personalToken) } catch { throw error.routeError }
        switch AccessPolicy.mayReadMetrics(actor) {
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
}
