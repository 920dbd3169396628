import Foundation
import SQLKit
import Synchronization

extension SQLRow {
    /// Decodes a whole row into a `Decodable` record whose properties are the camel-cased column names.
    func record<T: Decodable>(_ type: T.Type) throws -> T {
        try decode(model: T.self, keyDecodingStrategy: ColumnNames.strategy)
    }
}

/// SQLKit's `convertFromSnakeCase`, with each property's column name worked out once per process: SQLKit converts the key
/// again for every column of every row, which was a fifth of a project listing's CPU time.
enum ColumnNames {
    private static let cache = Mutex<[String: String]>([:])

    /// The decoding strategy: the cached column of each coding key (the cache holds one entry per property name in the code).
    static let strategy = SQLRowDecoder.KeyDecodingStrategy.custom { path in
        let key = path.last?.stringValue ?? ""
        if let column = cache.withLock({ $0[key] }) { return SomeCodingKey(stringValue: column) }
        let column = snakeCase(key)
        cache.withLock { $0[key] = column }
        return SomeCodingKey(stringValue: column)
    }

    /// `camelCase` to `snake_case` exactly as SQLKit's `convertedToSnakeCase` (copied, MIT): runs of capitals are one word.
    static func snakeCase(_ key: String) -> String {
        guard !key.isEmpty else { return key }
        var words: [Range<String.Index>] = []
        var wordStart = key.startIndex
        var searchIndex = key.index(after: wordStart)
        while let upperCaseIndex = key[searchIndex...].firstIndex(where: \.isUppercase) {
            words.append(wordStart..<upperCaseIndex)
            wordStart = upperCaseIndex
            guard let lowerCaseIndex = key[upperCaseIndex...].firstIndex(where: \.isLowercase) else { break }
            searchIndex = lowerCaseIndex
            if lowerCaseIndex != key.index(after: upperCaseIndex) {
                let beforeLowerIndex = key.index(before: lowerCaseIndex)
                words.append(upperCaseIndex..<beforeLowerIndex)
                wordStart = beforeLowerIndex
            }
        }
        words.append(wordStart..<key.endIndex)
        return words.map { word in
            let text = key[word]
            return text.isEmpty ? "" : "\(text[text.startIndex].lowercased())\(text.dropFirst())"
        }.joined(separator: "_")
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
