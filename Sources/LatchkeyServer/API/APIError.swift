import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStore
import NIOCore

/// An answer that is not a success, with GitLab's status and JSON body.
public struct APIError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    /// The JSON body, already encoded.
    public var body: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, body: String) {
        self.status = status
        self.body = body
    }

    /// `{"message": "<text>"}`.
    public init(_ status: HTTPResponse.Status, message: String) {
        self.init(status, body: JSON.object(["message": .string(message)]))
    }

    /// `{"error": "<text>"}`, Grape's shape for parameter problems.
    public init(_ status: HTTPResponse.Status, error: String) {
        self.init(status, body: JSON.object(["error": .string(error)]))
    }

    /// `{"message": {"field": ["problem"]}}`, Rails' validation shape.
    public static func validation(_ problems: [String: [String]]) -> APIError {
        let message = JSONValue.object(problems.mapValues { .array($0.map(JSONValue.string)) })
        return APIError(.badRequest, body: JSON.object(["message": message]))
    }

    public static func missing(_ names: String...) -> APIError { APIError(.badRequest, error: names.map { "\($0) is missing" }.joined(separator: ", ")) }
    public static func invalid(_ name: String) -> APIError { APIError(.badRequest, error: "\(name) is invalid") }
    public static let unauthorized = APIError(.unauthorized, message: "401 Unauthorized")
    public static let forbidden = APIError(.forbidden, message: "403 Forbidden")
    public static func notFound(_ what: String) -> APIError { APIError(.notFound, message: "404 \(what) Not Found") }
    public static let routeNotFound = APIError(.notFound, error: "404 Not Found")
    public static let contentTooLarge = APIError(.contentTooLarge, message: "413 Request Entity Too Large")

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// What a denial means on a project route: GitLab hides what the actor may not see.
    public static func from(_ denial: Denial, resource: String = "Project") -> APIError {
        switch denial {
        case .unauthenticated: .unauthorized
        case .notFound: .notFound(resource)
        case .insufficientRole, .blocked: .forbidden
        case .insufficientScope:
            APIError(.forbidden, body: JSON.object(["error": .string("insufficient_scope"), "error_description": .string(denial.explanation)]))
        case .jobTokenScope, .jobTokenOutboundScope, .jobTokenPolicyMissing, .jobTokenPermissionMissing:
            APIError(.forbidden, message: "403 Forbidden - \(denial.explanation)")
        case .notAJobTokenAbility, .botAccount: .forbidden
        case .jobNotRunning: .unauthorized
        }
    }
}

/// Turns every error a route throws into GitLab's answer; the one place errors meet HTTP.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The database is down or saturated: 503 at once, and one log line saying so (the client may retry).
    static func unavailable(_ error: any Error, request: Request, context: Context) -> APIError {
        context.logger.error(
            "database unavailable: answering 503", metadata: ["reason": "\(ServerLauncher.reason(error))", "path": "\(request.uri.path)"])
        var answer = APIError(.serviceUnavailable, message: "503 Service Unavailable")
        answer.headers[.retryAfter] = "5"
        return answer
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let denied as AccessDenied {
            return try APIError.from(denied).response(from: request, context: context)
        } catch let error as MembershipError {
            return try APIError.from(error).response(from: request, context: context)
        } catch let denial as Denial {
            return try APIError.from(denial).response(from: request, context: context)
        } catch let error as StoreError {
            let mapped: APIError =
                switch error {
                case .duplicate(let what): APIError(.conflict, message: "\(what) has already been taken")
                case .notFound: APIError(.notFound, message: "404 Not Found")
                case .invalidConfiguration, .corrupt: APIError(.internalServerError, message: "500 Internal Server Error")
                case .unavailable: Self.unavailable(error, request: request, context: context)
                }
            return try mapped.response(from: request, context: context)
        } catch is NIOTooManyBytesError {
            // `request.body.collect(upTo:)` anywhere: a body over its route's limit is GitLab's 413, not a 500.
            return try APIError.contentTooLarge.response(from: request, context: context)
        } catch let error as HTTPError {
            switch error.status {
            case .notFound: return try APIError.routeNotFound.response(from: request, context: context)
            case .methodNotAllowed: return try APIError(.methodNotAllowed, error: "405 Not Allowed").response(from: request, context: context)
            case .contentTooLarge: return try APIError.contentTooLarge.response(from: request, context: context)
            case .badRequest: return try APIError(.badRequest, error: error.body ?? "400 Bad request").response(from: request, context: context)
            default: return try APIError(error.status, message: "\(error.status.code) \(error.status.reasonPhrase)").response(from: request, context: context)
            }
        } catch where error.isDatabaseUnavailable {
            return try Self.unavailable(error, request: request, context: context).response(from: request, context: context)
        } catch {
            // Never echo the error: it may carry a query or a path with a secret in it.
            context.logger.error("request failed", metadata: ["error.type": "\(type(of: error))", "path": "\(request.uri.path)"])
            return try APIError(.internalServerError, message: "500 Internal Server Error").response(from: request, context: context)
        }
    }
}
