import Foundation
import LatchkeyCore

/// GraphQL's `ID`: GitLab's global ids (`gid://gitlab/Project/1`) and the full paths its mutations take.
struct GraphQLID: Codable, Sendable, Equatable, ExpressibleByStringLiteral {
    var value: String

    init(_ value: String) { self.value = value }
    init(stringLiteral value: String) { self.value = value }

    static func global(_ kind: String, _ id: Int64) -> GraphQLID { GraphQLID("gid://gitlab/\(kind)/\(id)") }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // The spec lets clients send an ID as a string or an integer.
        if let string = try? container.decode(String.self) {
            value = string
        } else {
            value = String(try container.decode(Int.self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// GitLab's `Time` scalar: an ISO 8601 timestamp in UTC.
struct GraphQLTime: Codable, Sendable, Equatable {
    var date: Date

    init(_ date: Date) { self.date = date }

    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = try? Date(text, strategy: .iso8601) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 time"))
        }
        self.date = date
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(date.formatted(Date.ISO8601FormatStyle()))
    }
}

/// GitLab's `CiJobTokenScopePolicies` enum: a job token policy spelled as GraphQL enum values are (`READ_JOBS`).
struct GraphQLPolicy: RawRepresentable, Codable, Sendable, Hashable {
    var rawValue: String

    init(rawValue: String) { self.rawValue = rawValue }
    init(_ policy: JobTokenPolicy) { rawValue = policy.rawValue.uppercased() }

    var policy: JobTokenPolicy? { JobTokenPolicy(rawValue: rawValue.lowercased()) }

    static var all: [GraphQLPolicy] { JobTokenPolicy.allCases.map(GraphQLPolicy.init) }
}

/// GitLab's `CiJobTokenScopeDirection`.
enum GraphQLDirection: String, Codable, Sendable, CaseIterable {
    case inbound = "INBOUND"
    case outbound = "OUTBOUND"

    var direction: AllowlistDirection { self == .inbound ? .inbound : .outbound }
}
