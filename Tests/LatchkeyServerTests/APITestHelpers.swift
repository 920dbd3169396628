import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyTestSupport
import Testing

/// Small readers and request shortcuts shared by the API suites.
extension APIResponse {
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }

    /// `message` when it is Rails' validation object.
    var problems: [String: [String]] { object["message"] as? [String: [String]] ?? [:] }

    /// The `id` of the body, as GitLab's integer ids.
    var id: Int64 { (object["id"] as? NSNumber)?.int64Value ?? -1 }

    /// The ids of an array body, in order.
    var ids: [Int64] { array.compactMap { ($0["id"] as? NSNumber)?.int64Value } }

    func string(_ key: String) -> String? { object[key] as? String }
}

extension Dictionary where Key == String, Value == Any {
    var id: Int64 { (self["id"] as? NSNumber)?.int64Value ?? -1 }
}

extension TestClientProtocol {
    /// Creates a project and insists on 201.
    func createProject(_ json: [String: any Sendable], token: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> APIResponse {
        let response = try await api(.post, "projects", token: token, json: json)
        try #require(response.status == .created, "project not created: \(response.status) \(response.text)", sourceLocation: sourceLocation)
        return response
    }

    /// Creates a group and insists on 201.
    func createGroup(
        _ path: String, parent: Int64? = nil, visibility: String = "private", token: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> APIResponse {
        var json: [String: any Sendable] = ["name": path.capitalized, "path": path, "visibility": visibility]
        if let parent { json["parent_id"] = parent }
        let response = try await api(.post, "groups", token: token, json: json)
        try #require(response.status == .created, "group not created: \(response.status) \(response.text)", sourceLocation: sourceLocation)
        return response
    }

    /// Adds a member to `projects/:id` or `groups/:id` and insists on 201.
    func addMember(
        _ kind: String, _ id: Int64, userID: Int64, level: Int, token: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let response = try await api(.post, "\(kind)/\(id)/members", token: token, json: ["user_id": userID, "access_level": level])
        try #require(response.status == .created, "member not added: \(response.status) \(response.text)", sourceLocation: sourceLocation)
    }
}

/// GitLab's access levels, for readable requests.
enum Level {
    static let guest = 10
    static let planner = 15
    static let reporter = 20
    static let developer = 30
    static let maintainer = 40
    static let owner = 50
}
