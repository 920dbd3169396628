import Foundation
import GraphQL
import Graphiti
import HTTPTypes
import Hummingbird
import LatchkeyCore

/// `POST /api/graphql` (and `GET` with `query`, `variables`, `operationName`): GitLab's GraphQL endpoint, for the job token scope.
struct GraphQLController {
    let environment: ServerEnvironment
    /// Built once; a schema that does not build is a defect, answered as a 500 on this route rather than a dead server.
    let api: Result<LatchkeyGraphQLAPI, any Error>

    init(environment: ServerEnvironment) {
        self.environment = environment
        self.api = Result { LatchkeyGraphQLAPI(schema: try GraphQLSchemaParts.makeSchema()) }
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("graphql", use: execute)
        routes.get("graphql", use: execute)
        return routes
    }

    @Sendable func execute(_ request: Request, context: AppRequestContext) async throws -> Response {
        let graphQLRequest: GraphQLRequest
        do {
            graphQLRequest = try await Self.read(request, context: context)
        } catch let error as GraphQLRequestError {
            return try Self.response(GraphQLResult(errors: [GraphQLError(message: error.message)]), status: .badRequest)
        }
        // Limits first: the library's parser and validator recurse and grow with the document, so what they see is bounded.
        let limits: GraphQLLimits = if case .anonymous = context.actor { .anonymous } else { .authenticated }
        let document: Document
        do {
            try limits.checkBeforeParsing(graphQLRequest.query)
            document = try GraphQL.parse(source: Source(body: graphQLRequest.query, name: "GraphQL request"))
            try limits.check(document, operationName: graphQLRequest.operationName)
        } catch let violation as GraphQLLimits.Violation {
            return try Self.response(GraphQLResult(errors: [GraphQLError(message: violation.message)]))
        } catch let error as GraphQLError {
            // Syntax errors: GitLab answers them like any other GraphQL error.
            return try Self.response(GraphQLResult(errors: [error]))
        }
        if request.method == .get, Self.isMutation(document, operationName: graphQLRequest.operationName) {
            // A GET must never change anything (links and prefetches follow GETs).
            return try Self.response(GraphQLResult(errors: [GraphQLError(message: "Mutations are forbidden in GET requests")]), status: .methodNotAllowed)
        }
        let api: LatchkeyGraphQLAPI
        switch self.api {
        case .success(let built): api = built
        case .failure(let error):
            context.logger.error("GraphQL schema does not build", metadata: ["error": "\(error)"])
            return try APIError(.internalServerError, message: "500 Internal Server Error").response(from: request, context: context)
        }
        let result: GraphQLResult
        do {
            result = try await api.execute(request: graphQLRequest, context: GraphQLContext(environment: environment, actor: context.actor))
        } catch let error as GraphQLError {
            // Syntax errors arrive thrown; GitLab answers them like any other GraphQL error.
            result = GraphQLResult(errors: [error])
        }
        return try Self.response(result)
    }

    struct GraphQLRequestError: Error {
        let message: String
    }

    private static func read(_ request: Request, context: AppRequestContext) async throws -> GraphQLRequest {
        if request.method == .get {
            let parameters = QueryString(request)
            guard let query = parameters.get("query"), !query.isEmpty else { throw GraphQLRequestError(message: "No query string was present") }
            var variables: [String: Map] = [:]
            if let text = parameters.get("variables"), !text.isEmpty {
                guard let decoded = try? JSONDecoder().decode([String: Map].self, from: Data(text.utf8)) else {
                    throw GraphQLRequestError(message: "Variables are invalid JSON")
                }
                variables = decoded
            }
            return GraphQLRequest(query: query, operationName: parameters.get("operationName"), variables: variables)
        }
        let body = try await request.body.collect(upTo: 1 << 20)
        let data = Data(buffer: body)
        if request.headers[.contentType]?.lowercased().hasPrefix("application/graphql") == true {
            return GraphQLRequest(query: String(decoding: data, as: UTF8.self))
        }
        guard let decoded = try? JSONDecoder().decode(GraphQLRequest.self, from: data) else {
            throw GraphQLRequestError(message: "Request body is not a JSON object with a query string")
        }
        guard !decoded.query.isEmpty else { throw GraphQLRequestError(message: "No query string was present") }
        return decoded
    }

    private static func isMutation(_ document: Document, operationName: String?) -> Bool {
        let operations = document.definitions.compactMap { $0 as? OperationDefinition }
        let chosen = operations.first { $0.name?.value == operationName } ?? operations.first
        return chosen?.operation == .mutation
    }

    private static func response(_ result: GraphQLResult, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = GraphQLJSONEncoder()
        // Keeps the order of `data` as the query asked for it, and paths readable (`alice/app`), as GitLab writes them.
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = try encoder.encode(result)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Resolves who is asking on `/api/graphql` from a personal access token (`PRIVATE-TOKEN` or Bearer), as REST does; unlike
/// REST it does not treat every POST as a write: a GraphQL query is a read, and each mutation's abilities are writes that
/// `AccessPolicy` checks against the token's scopes.
struct GraphQLAuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let authenticator: Authenticator

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        do throws(Authenticator.Failure) {
            context.actor = try await authenticator.actor(for: request, sources: .api)
        } catch {
            throw error.routeError
        }
        if case .user(let user) = context.actor, case .denied(let denial) = AccessPolicy.mayUseAPI(user, write: false) {
            throw APIError.from(denial)
        }
        return try await next(request, context)
    }
}
