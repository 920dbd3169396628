import Foundation
import Hummingbird
import LatchkeyCore

/// A request's parameters from the query string and the body (JSON, URL-encoded or multipart form), read the way Grape reads them.
public struct APIParameters: Sendable {
    private var values: [String: JSONValue]
    /// The file parts of a multipart body (`file=@path`), by field name: their bytes, kept apart from the text parameters.
    public private(set) var files: [String: Data] = [:]

    public init(values: [String: JSONValue] = [:]) { self.values = values }

    /// Reads the query and, for methods with a body, the body (at most `limit` bytes).
    public static func read(_ request: Request, context: some RequestContext, limit: Int = 1 << 20) async throws -> APIParameters {
        var values: [String: JSONValue] = [:]
        // Read the raw query ourselves: Hummingbird leaves keys percent-encoded (`scope%5B%5D`) and `+` undecoded, as requests sends them.
        for (key, value) in parseForm(request.uri.query ?? "") { add(key, value, to: &values) }
        guard request.method != .get, request.method != .head else { return APIParameters(values: values) }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, message: "413 Request Entity Too Large")
        }
        guard body.readableBytes > 0 else { return APIParameters(values: values) }
        let data = Data(buffer: body)
        if contentType.hasPrefix("application/x-www-form-urlencoded") {
            for (key, value) in parseForm(String(decoding: data, as: UTF8.self)) { add(key, value, to: &values) }
        } else if contentType.hasPrefix("multipart/form-data") {
            guard let boundary = MultipartForm.boundary(contentType: request.headers[.contentType] ?? "") else { throw APIError(.badRequest, error: "multipart boundary is missing") }
            let parts: [MultipartForm.Part]
            do {
                parts = try MultipartForm.parse(data, boundary: boundary)
            } catch {
                throw APIError(.badRequest, error: "the multipart body is malformed")
            }
            var files: [String: Data] = [:]
            for part in parts {
                if part.filename == nil { add(part.name, String(decoding: part.body, as: UTF8.self), to: &values) } else { files[part.name] = part.body }
            }
            var parameters = APIParameters(values: values)
            parameters.files = files
            return parameters
        } else if contentType.isEmpty || contentType.hasPrefix("application/json") || contentType.hasPrefix("text/plain") {
            let object: [String: JSONValue]
            do {
                object = try JSONValue.parameters(data)
            } catch .invalid {
                if contentType.hasPrefix("application/json") { throw APIError(.badRequest, error: "The provided content-type 'application/json' is not supported or the body is not valid JSON") }
                return APIParameters(values: values)
            } catch .notAnObject {
                throw APIError(.badRequest, error: "the request body must be a JSON object")
            }
            values.merge(object) { _, body in body }
        }
        return APIParameters(values: values)
    }

    /// Stores one field; repeated `name[]` fields (Rack's array syntax) gather into an array under `name`.
    static func add(_ key: String, _ value: String, to values: inout [String: JSONValue]) {
        guard key.hasSuffix("[]"), key.count > 2 else {
            values[key] = .string(value)
            return
        }
        let name = String(key.dropLast(2))
        if case .array(let items)? = values[name] { values[name] = .array(items + [.string(value)]) } else { values[name] = .array([.string(value)]) }
    }

    static func parseForm(_ text: String) -> [(String, String)] {
        URLEncodedForm.decode(text).map { ($0.name, $0.value) }
    }

    /// A JSON number as a parameter's text: `12` for whole numbers, checked before the conversion so `1e300` cannot trap.
    static func text(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }

    public subscript(name: String) -> JSONValue? { values[name] }

    public func has(_ name: String) -> Bool { values[name] != nil }

    /// Whether the request names `name` in any form: plain, or nested as Rack writes arrays of hashes (`name[][user_id]`,
    /// `name[0][access_level]`), which would otherwise arrive under keys of their own.
    public func mentions(_ name: String) -> Bool { values.keys.contains { $0 == name || $0.hasPrefix(name + "[") } }

    /// A string parameter; numbers and booleans are accepted as their text.
    public func string(_ name: String) throws -> String? {
        switch values[name] {
        case nil, .null?: nil
        case .string(let string)?: string
        case .number(let number)?: Self.text(number)
        case .bool(let bool)?: bool ? "true" : "false"
        default: throw APIError.invalid(name)
        }
    }

    public func requireString(_ name: String) throws -> String {
        guard let value = try string(name), !value.isEmpty else { throw APIError.missing(name) }
        return value
    }

    /// An integer parameter; `"12"` and `12` both work, anything else is invalid.
    public func int(_ name: String) throws -> Int64? {
        switch values[name] {
        case nil, .null?: return nil
        case .number(let number)?:
            guard number == number.rounded(), abs(number) < 9e15 else { throw APIError.invalid(name) }
            return Int64(number)
        case .string(let string)?:
            if string.isEmpty { return nil }
            guard let value = Int64(string.trimmingCharacters(in: .whitespaces)) else { throw APIError.invalid(name) }
            return value
        default: throw APIError.invalid(name)
        }
    }

    public func requireInt(_ name: String) throws -> Int64 {
        guard values[name] != nil, case let value? = try int(name) else { throw APIError.missing(name) }
        return value
    }

    /// A boolean parameter as Grape reads it: true/false, 1/0, "true"/"false", "t"/"f", "yes"/"no".
    public func bool(_ name: String) throws -> Bool? {
        switch values[name] {
        case nil: return nil
        case .bool(let bool)?: return bool
        case .null?: throw APIError.invalid(name)
        case .number(let number)?:
            if number == 1 { return true }
            if number == 0 { return false }
            throw APIError.invalid(name)
        case .string(let string)?:
            switch string.lowercased() {
            case "true", "t", "1", "yes", "y", "on": return true
            case "false", "f", "0", "no", "n", "off": return false
            default: throw APIError.invalid(name)
            }
        default: throw APIError.invalid(name)
        }
    }

    /// A parameter that must be one of an enumeration's raw values.
    public func enumeration<T: RawRepresentable>(_ name: String, _ type: T.Type) throws -> T? where T.RawValue == String {
        guard let text = try string(name) else { return nil }
        guard let value = T(rawValue: text) else { throw APIError(.badRequest, error: "\(name) does not have a valid value") }
        return value
    }

    /// A list given as a JSON array, a comma-separated string, or repeated `name[]` form fields.
    public func stringList(_ name: String) throws -> [String]? {
        if case .array(let items)? = values[name] {
            return try items.map { item in
                guard case .string(let string) = item else { throw APIError.invalid(name) }
                return string
            }
        }
        if let text = try string(name) { return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        return nil
    }

    /// `variables` in every shape clients send: `[{"key":..,"value":..}]`, `{"KEY": "value"}`, or form fields `variables[KEY]=value`.
    public func variables(_ name: String = "variables") throws -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        switch values[name] {
        case .array(let items)?:
            for item in items {
                guard case .object(let object) = item, case .string(let key)? = object["key"] else { throw APIError.invalid(name) }
                let value: String
                switch object["value"] {
                case .string(let string)?: value = string
                case .number(let number)?: value = Self.text(number)
                case .bool(let bool)?: value = bool ? "true" : "false"
                default: value = ""
                }
                result.append((key, value))
            }
        case .object(let object)?:
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                guard case .string(let string) = value else { throw APIError.invalid(name) }
                result.append((key, string))
            }
        case nil, .null?:
            break
        default:
            throw APIError.invalid(name)
        }
        let prefix = name + "["
        for (key, value) in values.sorted(by: { $0.key < $1.key }) where key.hasPrefix(prefix) && key.hasSuffix("]") {
            let inner = String(key.dropFirst(prefix.count).dropLast())
            guard !inner.isEmpty, !inner.contains("["), case .string(let string) = value else { continue }
            result.append((inner, string))
        }
        return result
    }
}
