import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// One log line per request (method, route, status, duration, request id, actor kind) and an `X-Request-Id` on every answer.
///
/// The route is the matched pattern (`/api/v4/projects/{id}`), never the raw path, so ids, file names and `job_token=`
/// query values never reach the log.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    static let requestIDField = HTTPField.Name("X-Request-Id")!

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        let id = Self.acceptedID(request.headers[Self.requestIDField]) ?? Self.newID()
        var context = context
        context.logger[metadataKey: "request_id"] = "\(id)"
        let started = ContinuousClock.now
        do {
            var response = try await next(request, context)
            response.headers[Self.requestIDField] = id
            log(request, context: context, status: response.status.code, started: started, id: id)
            return response
        } catch {
            log(request, context: context, status: (error as? any HTTPResponseError)?.status.code ?? 500, started: started, id: id)
            throw error
        }
    }

    private func log(_ request: Request, context: AppRequestContext, status: Int, started: ContinuousClock.Instant, id: String) {
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.info(
            "request",
            metadata: [
                "method": "\(request.method.rawValue)", "route": "\(context.endpointPath ?? "unmatched")", "status": "\(status)",
                "duration_ms": "\(String(format: "%.1f", milliseconds))", "request_id": "\(id)", "actor": "\(context.requestRecord.actorKind)",
            ])
    }

    /// A caller's request id is kept when it is short and plain (a proxy's), so one id follows the request through.
    static func acceptedID(_ value: String?) -> String? {
        guard let value, (1...64).contains(value.utf8.count),
            value.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0 & 0xDF) })
        else { return nil }
        return value
    }

    static func newID() -> String {
        (0..<16).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
    }
}
