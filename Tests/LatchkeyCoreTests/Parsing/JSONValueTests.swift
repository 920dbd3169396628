import Foundation
import Testing

@testable import LatchkeyCore

@Suite("Reading JSON parameters")
struct JSONValueTests {
    @Test("an object of parameters reads every JSON type")
    func object() throws {
        let parameters = try JSONValue.parameters(Data(#"{"a":"x","n":1.5,"b":true,"z":null,"l":[1,"y"],"o":{"k":"v"}}"#.utf8))
        #expect(parameters["a"] == .string("x"))
        #expect(parameters["n"] == .number(1.5))
        #expect(parameters["b"] == .bool(true))
        #expect(parameters["z"] == .null)
        #expect(parameters["l"] == .array([.number(1), .string("y")]))
        #expect(parameters["o"] == .object(["k": .string("v")]))
    }

    @Test("JSON that is not an object is refused as such", arguments: ["[]", "1", "\"x\"", "null", "true"])
    func notAnObject(_ text: String) {
        #expect(throws: JSONValue.ParseError.notAnObject) { try JSONValue.parameters(Data(text.utf8)) }
    }

    @Test(
        "what is not JSON, or nests deeper than the decoder goes, is invalid, never a crash",
        arguments: ["", "{", "{\"a\":}", "{}{}", "\u{FF}", String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000)]
    )
    func invalid(_ text: String) {
        #expect(throws: JSONValue.ParseError.invalid) { try JSONValue.parameters(Data(text.utf8)) }
    }

    @Test("a huge number stays a number (APIParameters checks it before any conversion)")
    func hugeNumber() throws {
        #expect(try JSONValue.parameters(Data(#"{"a":1e300}"#.utf8))["a"] == .number(1e300))
    }
}
