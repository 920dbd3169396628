import Foundation
import LatchkeyCore
import LatchkeyStore
import Logging
import ServiceLifecycle

/// `latchkey admin scope …`: the same scope changes as the API, made as the instance administrator from the host.
public enum ScopeAdministration {
    public enum Action: String, Sendable {
        case show, enable, disable, allow, revoke
    }

    /// Applies `action` and returns what to print.
    public static func run(_ action: Action, project projectPath: String, target: String?, settings: ServerSettings) async throws -> String {
        try await withAdministeredInstance(settings) { environment in
            try await perform(action, projectPath: projectPath, target: target, environment: environment)
        }
    }

    private static func perform(_ action: Action, projectPath: String, target: String?, environment: ServerEnvironment) async throws -> String {
        let store = environment.store
        guard let project = try await store.projects.find(fullPath: projectPath) else { throw ScopeAdministrationError("no project \(projectPath)") }
        guard let root = try await store.users.list(page: PageRequest(page: 1, perPage: 100)).items.first(where: \.isAdmin) else {
            throw ScopeAdministrationError("the instance has no administrator")
        }
        let actor = Actor.user(UserActor(user: root, scopes: nil))
        let scope = JobTokenScopeService(environment: environment)
        do {
            switch action {
            case .show:
                break
            case .enable, .disable:
                try await scope.setInbound(action == .enable, project: project, by: actor)
            case .allow, .revoke:
                let target = target ?? ""
                if let other = try await store.projects.find(fullPath: target) {
                    if action == .allow {
                        _ = try await scope.addProject(other.id, to: project, grant: AllowlistGrant(), by: actor)
                    } else {
                        try await scope.removeProject(other.id, from: project, by: actor)
                    }
                } else if let group = try await store.namespaces.group(fullPath: target) {
                    if action == .allow {
                        _ = try await scope.addGroup(group.id, to: project, grant: AllowlistGrant(), by: actor)
                    } else {
                        try await scope.removeGroup(group.id, from: project, by: actor)
                    }
                } else {
                    throw ScopeAdministrationError("no project or group \(target)")
                }
            }
        } catch let error as APIError {
            throw ScopeAdministrationError(error.plainMessage)
        }
        return try await describe(projectPath: projectPath, store: store)
    }

    private static func describe(projectPath: String, store: Store) async throws -> String {
        guard let project = try await store.projects.find(fullPath: projectPath) else { return "" }
        var lines = [
            "\(project.fullPath)",
            "  Limit access to this project: \(project.jobTokenInboundEnabled ? "on" : "off")",
            "  Limit access from this project (legacy): \(project.jobTokenOutboundEnabled ? "on" : "off")",
            "  Allow Git push requests with a job token: \(project.jobTokenPushAllowed ? "on" : "off")",
            "  Authorized groups and projects:",
            "    \(project.fullPath) (this project)",
        ]
        for entry in try await store.jobTokenScope.entries(project: project.id, direction: .inbound) {
            let kind = if case .group = entry.target { "group" } else { "project" }
            let permissions = entry.grant.defaultPermissions ? "all job token permissions" : entry.grant.policies.map(\.rawValue).sorted().joined(separator: ", ")
            lines.append("    \(entry.target.fullPath) (\(kind); \(permissions)\(entry.autopopulated ? "; autopopulated" : ""))")
        }
        return lines.joined(separator: "\n")
    }
}

/// A refusal of `latchkey admin scope`, in plain words.
public struct ScopeAdministrationError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension APIError {
    /// The human part of the body, for places that are not HTTP (GraphQL errors, the CLI, web forms).
    var plainMessage: String {
        guard let data = body.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return body }
        if let message = object["message"] as? String { return message.replacingOccurrences(of: #"^\d{3} [A-Za-z ]+ - "#, with: "", options: .regularExpression) }
        if let error = object["error"] as? String { return error }
        if let message = object["message"] as? [String: [String]] {
            return message.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.joined(separator: ", "))" }.joined(separator: "; ")
        }
        return body
    }
}
