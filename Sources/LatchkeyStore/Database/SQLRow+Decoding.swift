import Foundation
import SQLKit

extension SQLRow {
    /// Decodes a whole row into a `Decodable` record whose properties are the camel-cased column names.
    func record<T: Decodable>(_ type: T.Type) throws -> T {
        try decode(model: T.self, keyDecodingStrategy: .convertFromSnakeCase)
    }
}

extension SQLQueryFetcher {
    /// All rows as records.
    func records<T: Decodable & Sendable>(_ type: T.Type) async throws -> [T] {
        try await all().map { try $0.record(T.self) }
    }

    /// The first row as a record.
    func record<T: Decodable & Sendable>(_ type: T.Type) async throws -> T? {
        try await first().map { try $0.record(T.self) }
    }
}

/// A page request: GitLab's `page` (from 1) and `per_page`.
public struct PageRequest: Sendable, Equatable {
    public var page: Int
    public var perPage: Int

    public init(page: Int = 1, perPage: Int = 20) {
        self.page = max(1, page)
        self.perPage = min(max(1, perPage), 100)
    }

    public var offset: Int { (page - 1) * perPage }
}

/// One page of results and the total count, for GitLab's pagination headers.
public struct Page<Element: Sendable>: Sendable {
    public var items: [Element]
    public var total: Int
    public var request: PageRequest

    public init(items: [Element], total: Int, request: PageRequest) {
        self.items = items
        self.total = total
        self.request = request
    }

    public func map<T>(_ transform: (Element) throws -> T) rethrows -> Page<T> {
        Page<T>(items: try items.map(transform), total: total, request: request)
    }
}

extension SQLSelectBuilder {
    /// Fetches one page of `T` records and the total count of rows the query matches.
    func page<T: Decodable & Sendable>(_ request: PageRequest, as type: T.Type, countOn db: any SQLDatabase) async throws -> Page<T> {
        let countQuery = db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(SQLAlias(SQLGroupExpression(self.select), as: SQLIdentifier("counted")))
        let total = try await countQuery.first()?.decode(column: "n", as: Int.self) ?? 0
        let items = try await self.limit(request.perPage).offset(request.offset).records(T.self)
        return Page(items: items, total: total, request: request)
    }
}
