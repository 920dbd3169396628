import Foundation
import Graphiti

/// A page of a GitLab connection: `nodes`, `edges { node cursor }`, `pageInfo` and the total `count`.
struct GraphQLConnection<Node: Sendable>: Sendable {
    var nodes: [Node]
    var edges: [GraphQLEdge<Node>]
    var count: Int
    var pageInfo: GraphQLPageInfo

    /// Cuts the page `arguments` ask for out of the whole list (cursors are opaque offsets, as GitLab's are opaque).
    init(_ all: [Node], _ arguments: GraphQLPageArguments = GraphQLPageArguments()) {
        var start = arguments.after.flatMap(GraphQLCursor.offset).map { $0 + 1 } ?? 0
        var end = arguments.before.flatMap(GraphQLCursor.offset) ?? all.count
        start = min(max(start, 0), all.count)
        end = min(max(end, start), all.count)
        // `first` and `last` come from the client: clamped to the list, so no sum overflows.
        if let first = arguments.first { end = min(end, start + min(max(first, 0), all.count)) }
        if let last = arguments.last { start = max(start, end - min(max(last, 0), all.count)) }
        let slice = Array(all[start..<end])
        nodes = slice
        edges = slice.enumerated().map { GraphQLEdge(node: $0.element, cursor: GraphQLCursor.make(start + $0.offset)) }
        count = all.count
        pageInfo = GraphQLPageInfo(
            hasNextPage: end < all.count, hasPreviousPage: start > 0,
            startCursor: slice.isEmpty ? nil : GraphQLCursor.make(start), endCursor: slice.isEmpty ? nil : GraphQLCursor.make(end - 1))
    }
}

struct GraphQLEdge<Node: Sendable>: Sendable {
    var node: Node
    var cursor: String
}

/// Relay's `PageInfo`.
struct GraphQLPageInfo: Sendable {
    var hasNextPage: Bool
    var hasPreviousPage: Bool
    var startCursor: String?
    var endCursor: String?
}

/// `first`, `last`, `after`, `before` on every connection field.
struct GraphQLPageArguments: Codable, Sendable {
    var first: Int?
    var last: Int?
    var after: String?
    var before: String?
}

enum GraphQLCursor {
    static func make(_ offset: Int) -> String { Data("offset:\(offset)".utf8).base64EncodedString() }

    static func offset(_ cursor: String) -> Int? {
        guard let data = Data(base64Encoded: cursor) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard text.hasPrefix("offset:") else { return nil }
        // A cursor is outside input: an offset past any list is refused, so `offset + 1` cannot overflow.
        guard let offset = Int(text.dropFirst(7)), offset >= 0, offset < 1 << 40 else { return nil }
        return offset
    }
}

extension GraphQLSchemaParts {
    /// The connection and edge types for one node type, named as GitLab names them (`<Name>Connection`, `<Name>Edge`).
    static func connection<Node: Sendable>(_ node: Node.Type, named name: String) -> [Component<GraphQLResolver, GraphQLContext>] {
        [
            Type(GraphQLEdge<Node>.self, as: "\(name)Edge") {
                Field("node", at: \.node)
                Field("cursor", at: \.cursor)
            },
            Type(GraphQLConnection<Node>.self, as: "\(name)Connection") {
                Field("nodes", at: \.nodes)
                Field("edges", at: \.edges)
                Field("count", at: \.count)
                Field("pageInfo", at: \.pageInfo)
            },
        ]
    }

    /// The page arguments every connection field takes.
    static func pageArguments() -> [ArgumentComponent<GraphQLPageArguments>] {
        [Argument("first", at: \.first), Argument("last", at: \.last), Argument("after", at: \.after), Argument("before", at: \.before)]
    }
}
