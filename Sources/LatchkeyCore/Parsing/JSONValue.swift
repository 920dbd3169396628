import Foundation

/// A JSON value, for bodies we read loosely (GitLab clients send strings, numbers or booleans interchangeably).
public enum JSONValue: Sendable, Equatable, Decodable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    /// Why a body is not the JSON we read.
    public enum ParseError: Error, Equatable, Sendable {
        /// Not JSON (or nested deeper than the decoder allows).
        case invalid
        /// JSON, but not an object of parameters.
        case notAnObject
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// The JSON document in `data`.
    public static func parse(_ data: Data) throws(ParseError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .invalid
        }
    }

    /// The parameters of a JSON request body: a JSON object, by name.
    public static func parameters(_ data: Data) throws(ParseError) -> [String: JSONValue] {
        guard case .object(let object) = try parse(data) else { throw .notAnObject }
        return object
    }
}
