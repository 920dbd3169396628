import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore

extension JSONValue {
    var serialized: String {
        switch self {
        case .string(let string): JSON.quote(string)
        case .number(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let bool): bool ? "true" : "false"
        case .null: "null"
        case .array(let values): "[" + values.map(\.serialized).joined(separator: ",") + "]"
        case .object(let object): JSON.object(object)
        }
    }
}

/// JSON encoding shared by every response.
public enum JSON {
    /// Entities are camelCase in Swift and snake_case on the wire, dates as GitLab writes them.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(GitLabDate.format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func object(_ fields: [String: JSONValue]) -> String {
        "{" + fields.sorted { $0.key < $1.key }.map { "\(quote($0.key)):\($0.value.serialized)" }.joined(separator: ",") + "}"
    }

    static func quote(_ string: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [string], options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }

    /// A JSON response with the given status.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        let data = try encoder.encode(value)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func empty(_ status: HTTPResponse.Status = .noContent) -> Response {
        Response(status: status)
    }
}

/// GitLab's timestamp format: ISO 8601, milliseconds, UTC.
enum GitLabDate {
    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
