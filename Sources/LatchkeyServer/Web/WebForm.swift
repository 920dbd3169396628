import Foundation
import Hummingbird

/// A submitted `application/x-www-form-urlencoded` form, keeping repeated fields (checkbox lists).
struct WebForm: Sendable {
    let fields: [(String, String)]

    init(fields: [(String, String)]) { self.fields = fields }

    static func read(_ request: Request, limit: Int = 1 << 20) async throws -> WebForm {
        guard request.method == .post else { return WebForm(fields: []) }
        let buffer = try await request.body.collect(upTo: limit)
        return WebForm(fields: APIParameters.parseForm(String(buffer: buffer)))
    }

    /// The first value of `name`, trimmed; nil when absent.
    subscript(_ name: String) -> String? {
        fields.first { $0.0 == name }.map { $0.1.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// Every value of `name` (or `name[]`).
    func all(_ name: String) -> [String] {
        fields.filter { $0.0 == name || $0.0 == name + "[]" }.map(\.1)
    }

    /// A checkbox or switch: "true", "1" or "on" is on.
    func flag(_ name: String) -> Bool {
        guard let value = self[name]?.lowercased() else { return false }
        return ["true", "1", "on", "yes"].contains(value)
    }
}
