import Foundation
import LatchkeyCore

extension APIParameters {
    /// A job token permissions ceiling: nil when the parameter is absent (leave it), `.some(nil)` for `null` or `""` (remove it), else
    /// an object `{"packages": "read"}` or the text form (`repository: read, packages: write`, `read-all`, `none`). Anything else is
    /// a 400 naming the parameter.
    func jobTokenPermissions(_ name: String) throws -> JobTokenPermissions?? {
        guard let value = self[name] else { return nil }
        let result: Result<JobTokenPermissions, JobTokenPermissionsError>
        switch value {
        case .null: return .some(nil)
        case .string(let text) where text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty: return .some(nil)
        case .string(let text) where text.utf8.count <= 4096: result = JobTokenPermissions.parse(text: text)
        case .object(let object) where object.count <= JobTokenPermissions.maxEntries:
            var entries: [(String, String)] = []
            for (resource, level) in object.sorted(by: { $0.key < $1.key }) {
                guard case .string(let text) = level else {
                    throw APIError.validation([name: ["\(resource.prefix(64)) should be one of: none, read, write"]])
                }
                entries.append((resource, text))
            }
            result = JobTokenPermissions.parse(entries)
        default:
            throw APIError.validation([name: ["should be an object of resource: level, a text such as \"repository: read\", or null"]])
        }
        switch result {
        case .success(let permissions): return .some(permissions)
        case .failure(let error): throw APIError.validation([name: [error.message]])
        }
    }
}
