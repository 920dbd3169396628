import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import Testing

/// A GraphQL answer: `data` and the top-level `errors`' messages.
struct GraphQLAnswer {
    let response: APIResponse
    var status: HTTPResponse.Status { response.status }
    var data: [String: Any] { response.object["data"] as? [String: Any] ?? [:] }
    var errors: [String] { (response.object["errors"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String } }

    /// The value at a dotted path inside `data` (`project.ciCdSettings.inboundJobTokenScopeEnabled`).
    func at(_ path: String) -> Any? {
        var value: Any? = data
        for key in path.split(separator: ".") { value = (value as? [String: Any])?[String(key)] }
        return value
    }

    func paths(_ path: String) -> [String] { (at(path) as? [[String: Any]] ?? []).compactMap { $0["fullPath"] as? String } }
}

extension TestClientProtocol {
    func graphql(_ query: String, variables: [String: any Sendable] = [:], token: String?, headers: HTTPFields = [:]) async throws -> GraphQLAnswer {
        GraphQLAnswer(response: try await api(.post, "/api/graphql", token: token, json: ["query": query, "variables": variables], headers: headers))
    }
}

@Suite("GraphQL: job token scope")
struct GraphQLTests {
    static let notAvailable = "The resource that you are attempting to access does not exist or you don't have permission to perform this action"

    struct World {
        var alice: User, aliceToken: String
        var bobToken: String
        var carolToken: String
        var app: Int64, other: Int64, team: Int64
    }

    private func world(_ server: TestServer, _ client: some TestClientProtocol) async throws -> World {
        let (alice, aliceToken) = try await server.makeUser("alice")
        let (bob, bobToken) = try await server.makeUser("bob")
        let (_, carolToken) = try await server.makeUser("carol")
        let app = try await client.createProject(["name": "app", "visibility": "private"], token: aliceToken).id
        let other = try await client.createProject(["name": "other", "visibility": "private"], token: aliceToken).id
        let team = try await client.createGroup("team", token: aliceToken).id
        try await client.addMember("projects", app, userID: bob.id, level: Level.developer, token: aliceToken)
        return World(alice: alice, aliceToken: aliceToken, bobToken: bobToken, carolToken: carolToken, app: app, other: other, team: team)
    }

    static let fullQuery = """
        query($path: ID!) {
          project(fullPath: $path) {
            id fullPath name
            ciCdSettings { inboundJobTokenScopeEnabled jobTokenScopeEnabled pushRepositoryForJobTokenAllowed }
            ciJobTokenScope {
              inboundAllowlist { nodes { fullPath id name defaultPermissions jobTokenPolicies autopopulated } count }
              groupsAllowlist { nodes { fullPath id name } count }
              outboundAllowlist { nodes { fullPath } count }
              inboundAllowlistCount groupsAllowlistCount
            }
            ciJobTokenAuthLogs { nodes { originProject { fullPath } lastAuthorizedAt } count }
          }
        }
        """

    @Test("currentUser is who the token acts as, and null for an anonymous caller")
    func currentUser() async throws {
        try await withTestServer { server, client in
            let (alice, token) = try await server.makeUser("alice")
            let answer = try await client.graphql("{ currentUser { id username name state webUrl bot active } }", token: token)
            #expect(answer.at("currentUser.id") as? String == "gid://gitlab/User/\(alice.id)", "\(answer.response.text)")
            #expect(answer.at("currentUser.username") as? String == "alice")
            #expect(answer.at("currentUser.state") as? String == "active")
            #expect(answer.at("currentUser.active") as? Bool == true)
            let anonymous = try await client.graphql("{ currentUser { id } }", token: nil)
            #expect(anonymous.data["currentUser"] is NSNull, "\(anonymous.response.text)")
        }
    }

    @Test("a Maintainer reads settings, allowlists and the authentication log through project(fullPath:)", arguments: TestBackend.all)
    func query(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            try await server.store.jobTokenScope.addProject(
                w.other, to: w.app, direction: .inbound, grant: AllowlistGrant(defaultPermissions: false, policies: [.readJobs, .adminPackages]), addedBy: w.alice.id)
            try await server.store.jobTokenScope.addGroup(w.team, to: w.app, addedBy: w.alice.id)
            try await server.store.jobTokenScope.addProject(w.other, to: w.app, direction: .outbound, addedBy: w.alice.id)
            try await server.store.jobTokenScope.recordAuthorization(accessed: w.app, origin: w.other, at: Date(timeIntervalSince1970: 1_700_000_000))

            let answer = try await client.graphql(Self.fullQuery, variables: ["path": "alice/app"], token: w.aliceToken)
            #expect(answer.status == .ok)
            #expect(answer.errors == [])
            #expect(answer.at("project.id") as? String == "gid://gitlab/Project/\(w.app)")
            #expect(answer.at("project.fullPath") as? String == "alice/app")
            #expect(answer.at("project.ciCdSettings.inboundJobTokenScopeEnabled") as? Bool == true)
            #expect(answer.at("project.ciCdSettings.jobTokenScopeEnabled") as? Bool == false)
            #expect(answer.at("project.ciCdSettings.pushRepositoryForJobTokenAllowed") as? Bool == false)
            #expect(answer.paths("project.ciJobTokenScope.inboundAllowlist.nodes") == ["alice/app", "alice/other"])
            let entry = try #require((answer.at("project.ciJobTokenScope.inboundAllowlist.nodes") as? [[String: Any]])?.last)
            #expect(entry["id"] as? String == "gid://gitlab/Project/\(w.other)")
            #expect(entry["defaultPermissions"] as? Bool == false)
            #expect(entry["jobTokenPolicies"] as? [String] == ["ADMIN_PACKAGES", "READ_JOBS"])
            #expect(entry["autopopulated"] as? Bool == false)
            #expect(answer.at("project.ciJobTokenScope.inboundAllowlist.count") as? Int == 2)
            #expect(answer.paths("project.ciJobTokenScope.groupsAllowlist.nodes") == ["team"])
            #expect(answer.at("project.ciJobTokenScope.groupsAllowlist.count") as? Int == 1)
            #expect(answer.paths("project.ciJobTokenScope.outboundAllowlist.nodes") == ["alice/app", "alice/other"])
            #expect(answer.at("project.ciJobTokenScope.inboundAllowlistCount") as? Int == 2)
            #expect(answer.at("project.ciJobTokenScope.groupsAllowlistCount") as? Int == 1)
            let log = try #require((answer.at("project.ciJobTokenAuthLogs.nodes") as? [[String: Any]])?.first)
            #expect((log["originProject"] as? [String: Any])?["fullPath"] as? String == "alice/other")
            #expect(log["lastAuthorizedAt"] as? String == "2023-11-14T22:13:20Z")
            #expect(answer.at("project.ciJobTokenAuthLogs.count") as? Int == 1)

            // Connections page with first/after like GitLab's.
            let paged = try await client.graphql(
                #"{ project(fullPath: "alice/app") { ciJobTokenScope { inboundAllowlist(first: 1) { nodes { fullPath } pageInfo { hasNextPage endCursor } } } } }"#,
                token: w.aliceToken)
            #expect(paged.paths("project.ciJobTokenScope.inboundAllowlist.nodes") == ["alice/app"])
            #expect(paged.at("project.ciJobTokenScope.inboundAllowlist.pageInfo.hasNextPage") as? Bool == true)
            let cursor = try #require(paged.at("project.ciJobTokenScope.inboundAllowlist.pageInfo.endCursor") as? String)
            let next = try await client.graphql(
                #"query($after: String) { project(fullPath: "alice/app") { ciJobTokenScope { inboundAllowlist(first: 5, after: $after) { nodes { fullPath } } } } }"#,
                variables: ["after": cursor], token: w.aliceToken)
            #expect(next.paths("project.ciJobTokenScope.inboundAllowlist.nodes") == ["alice/other"])
        }
    }

    @Test("what a caller may not administer stays hidden: null project, null settings, an error for the scope", arguments: TestBackend.all)
    func queryRefusals(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let outsider = try await client.graphql(Self.fullQuery, variables: ["path": "alice/app"], token: w.carolToken)
            #expect(outsider.status == .ok)
            #expect(outsider.errors == [])
            #expect(outsider.data["project"] is NSNull)
            let missing = try await client.graphql(Self.fullQuery, variables: ["path": "nobody/nothing"], token: w.aliceToken)
            #expect(missing.data["project"] is NSNull)

            let developer = try await client.graphql(Self.fullQuery, variables: ["path": "alice/app"], token: w.bobToken)
            #expect(developer.at("project.fullPath") as? String == "alice/app")
            #expect(developer.at("project.ciCdSettings") is NSNull)
            #expect(developer.at("project.ciJobTokenScope") is NSNull)
            #expect(developer.errors.contains(Self.notAvailable))
            let paths = (developer.response.object["errors"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? [String] }
            #expect(paths.contains(["project", "ciJobTokenScope"]))

            let anonymous = try await client.graphql(Self.fullQuery, variables: ["path": "alice/app"], token: nil)
            #expect(anonymous.status == .ok)
            #expect(anonymous.data["project"] is NSNull)
            let badToken = try await client.graphql(Self.fullQuery, variables: ["path": "alice/app"], token: "glpat-not-a-real-token")
            #expect(badToken.status == .unauthorized)
        }
    }

    @Test("ciJobTokenScopeAddProject adds through the service and reports refusals in the payload's errors", arguments: TestBackend.all)
    func addProject(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let mutation = """
                mutation($project: ID!, $target: ID!) {
                  ciJobTokenScopeAddProject(input: {projectPath: $project, targetProjectPath: $target, clientMutationId: "m1"}) {
                    clientMutationId errors ciJobTokenScope { inboundAllowlist { nodes { fullPath } } }
                  }
                }
                """
            let added = try await client.graphql(mutation, variables: ["project": "alice/app", "target": "alice/other"], token: w.aliceToken)
            #expect(added.status == .ok)
            #expect(added.errors == [])
            #expect(added.at("ciJobTokenScopeAddProject.errors") as? [String] == [])
            #expect(added.at("ciJobTokenScopeAddProject.clientMutationId") as? String == "m1")
            #expect(added.paths("ciJobTokenScopeAddProject.ciJobTokenScope.inboundAllowlist.nodes") == ["alice/app", "alice/other"])
            let entries = try await server.store.jobTokenScope.entries(project: w.app, direction: .inbound)
            #expect(entries.map(\.target.fullPath) == ["alice/other"])
            #expect(entries.first?.grant == AllowlistGrant())

            let duplicate = try await client.graphql(mutation, variables: ["project": "alice/app", "target": "alice/other"], token: w.aliceToken)
            #expect(duplicate.status == .ok)
            #expect(duplicate.at("ciJobTokenScopeAddProject.errors") as? [String] == ["This project is already in the job token allowlist."])
            #expect(duplicate.at("ciJobTokenScopeAddProject.ciJobTokenScope") is NSNull)
            let itself = try await client.graphql(mutation, variables: ["project": "alice/app", "target": "alice/app"], token: w.aliceToken)
            #expect(itself.at("ciJobTokenScopeAddProject.errors") as? [String] == ["Target project can't be the same as the source project"])
            let unknown = try await client.graphql(mutation, variables: ["project": "alice/app", "target": "nobody/nothing"], token: w.aliceToken)
            #expect((unknown.at("ciJobTokenScopeAddProject.errors") as? [String])?.first?.hasPrefix("The target_project that you are attempting to access does not exist") == true)
            let (_, daveToken) = try await server.makeUser("dave")
            _ = try await client.createProject(["name": "secret"], token: daveToken)
            let hidden = try await client.graphql(mutation, variables: ["project": "alice/app", "target": "dave/secret"], token: w.aliceToken)
            #expect(hidden.at("ciJobTokenScopeAddProject.errors") as? [String] == unknown.at("ciJobTokenScopeAddProject.errors") as? [String])

            // A project the caller cannot administer is GitLab's top-level "resource not available", the mutation's field null.
            for token in [w.bobToken, w.carolToken] {
                let refused = try await client.graphql(mutation, variables: ["project": "alice/app", "target": "alice/other"], token: token)
                #expect(refused.status == .ok)
                #expect(refused.errors == [Self.notAvailable])
                #expect(refused.data["ciJobTokenScopeAddProject"] is NSNull)
            }
            let missing = try await client.graphql(mutation, variables: ["project": "nobody/nothing", "target": "alice/other"], token: w.aliceToken)
            #expect(missing.errors == [Self.notAvailable])
            let anonymous = try await client.graphql(mutation, variables: ["project": "alice/app", "target": "alice/other"], token: nil)
            #expect(anonymous.errors == [Self.notAvailable])
            #expect(try await server.store.jobTokenScope.entries(project: w.app, direction: .inbound).count == 1)
        }
    }

    @Test("ciJobTokenScopeAddGroupOrProject takes groups or projects with fine-grained policies", arguments: TestBackend.all)
    func addGroupOrProject(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let mutation = """
                mutation($target: ID!, $policies: [CiJobTokenScopePolicies!]) {
                  ciJobTokenScopeAddGroupOrProject(input: {projectPath: "alice/app", targetPath: $target, jobTokenPolicies: $policies}) {
                    errors ciJobTokenScope { groupsAllowlist { nodes { fullPath jobTokenPolicies defaultPermissions } } inboundAllowlistCount }
                  }
                }
                """
            let group = try await client.graphql(mutation, variables: ["target": "team", "policies": ["READ_JOBS", "ADMIN_PACKAGES"]], token: w.aliceToken)
            #expect(group.errors == [])
            #expect(group.at("ciJobTokenScopeAddGroupOrProject.errors") as? [String] == [])
            let node = try #require((group.at("ciJobTokenScopeAddGroupOrProject.ciJobTokenScope.groupsAllowlist.nodes") as? [[String: Any]])?.first)
            #expect(node["fullPath"] as? String == "team")
            #expect(node["jobTokenPolicies"] as? [String] == ["ADMIN_PACKAGES", "READ_JOBS"])
            #expect(node["defaultPermissions"] as? Bool == false)
            let project = try await client.graphql(mutation, variables: ["target": "alice/other"], token: w.aliceToken)
            #expect(project.at("ciJobTokenScopeAddGroupOrProject.ciJobTokenScope.inboundAllowlistCount") as? Int == 2)
            let entries = try await server.store.jobTokenScope.entries(project: w.app, direction: .inbound)
            #expect(entries.first { $0.target.fullPath == "team" }?.grant == AllowlistGrant(defaultPermissions: false, policies: [.readJobs, .adminPackages]))
            #expect(entries.first { $0.target.fullPath == "alice/other" }?.grant == AllowlistGrant())

            let nowhere = try await client.graphql(mutation, variables: ["target": "no/such/thing"], token: w.aliceToken)
            #expect(nowhere.at("ciJobTokenScopeAddGroupOrProject.errors") as? [String] == ["The group or project does not exist."])
            // Policy names are GitLab's enum values; anything else fails validation before any change.
            let badPolicy = try await client.graphql(mutation, variables: ["target": "alice/other", "policies": ["read_jobs"]], token: w.aliceToken)
            #expect(badPolicy.errors.isEmpty == false)
            #expect(badPolicy.data["ciJobTokenScopeAddGroupOrProject"] == nil || badPolicy.data["ciJobTokenScopeAddGroupOrProject"] is NSNull)
        }
    }

    @Test("ciJobTokenScopeRemoveProject and ciJobTokenScopeRemoveGroup remove, and say when nothing is listed", arguments: TestBackend.all)
    func remove(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            try await server.store.jobTokenScope.addProject(w.other, to: w.app, direction: .inbound, addedBy: w.alice.id)
            try await server.store.jobTokenScope.addGroup(w.team, to: w.app, addedBy: w.alice.id)
            let removeProject = """
                mutation { ciJobTokenScopeRemoveProject(input: {projectPath: "alice/app", targetProjectPath: "alice/other", direction: INBOUND}) {
                  errors ciJobTokenScope { inboundAllowlist { nodes { fullPath } } } } }
                """
            let removed = try await client.graphql(removeProject, token: w.aliceToken)
            #expect(removed.at("ciJobTokenScopeRemoveProject.errors") as? [String] == [])
            #expect(removed.paths("ciJobTokenScopeRemoveProject.ciJobTokenScope.inboundAllowlist.nodes") == ["alice/app"])
            let again = try await client.graphql(removeProject, token: w.aliceToken)
            #expect(again.at("ciJobTokenScopeRemoveProject.errors") as? [String] == ["Target project is not in the job token scope"])

            let removeGroup = #"mutation { ciJobTokenScopeRemoveGroup(input: {projectPath: "alice/app", targetGroupPath: "team"}) { errors ciJobTokenScope { groupsAllowlistCount } } }"#
            let groupRemoved = try await client.graphql(removeGroup, token: w.aliceToken)
            #expect(groupRemoved.at("ciJobTokenScopeRemoveGroup.errors") as? [String] == [])
            #expect(groupRemoved.at("ciJobTokenScopeRemoveGroup.ciJobTokenScope.groupsAllowlistCount") as? Int == 0)
            let groupAgain = try await client.graphql(removeGroup, token: w.aliceToken)
            #expect(groupAgain.at("ciJobTokenScopeRemoveGroup.errors") as? [String] == ["Target group is not in the job token scope"])
            #expect(try await server.store.jobTokenScope.entries(project: w.app, direction: .inbound).isEmpty)
            #expect(try await client.graphql(removeGroup, token: w.bobToken).errors == [Self.notAvailable])
        }
    }

    @Test("ciJobTokenScopeUpdatePolicies replaces an entry's permissions and answers the entry", arguments: TestBackend.all)
    func updatePolicies(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            try await server.store.jobTokenScope.addProject(w.other, to: w.app, direction: .inbound, addedBy: w.alice.id)
            let mutation = """
                mutation($target: ID!) {
                  ciJobTokenScopeUpdatePolicies(input: {projectPath: "alice/app", targetPath: $target, defaultPermissions: false,
                                                        jobTokenPolicies: [READ_RELEASES, READ_REPOSITORIES]}) {
                    errors
                    ciJobTokenScopeAllowlistEntry {
                      sourceProject { fullPath } direction defaultPermissions jobTokenPolicies autopopulated createdAt
                      target { ... on CiJobTokenAccessibleProject { fullPath } ... on CiJobTokenAccessibleGroup { fullPath } }
                    }
                  }
                }
                """
            let updated = try await client.graphql(mutation, variables: ["target": "alice/other"], token: w.aliceToken)
            #expect(updated.errors == [])
            #expect(updated.at("ciJobTokenScopeUpdatePolicies.errors") as? [String] == [])
            #expect(updated.at("ciJobTokenScopeUpdatePolicies.ciJobTokenScopeAllowlistEntry.sourceProject.fullPath") as? String == "alice/app")
            #expect(updated.at("ciJobTokenScopeUpdatePolicies.ciJobTokenScopeAllowlistEntry.target.fullPath") as? String == "alice/other")
            #expect(updated.at("ciJobTokenScopeUpdatePolicies.ciJobTokenScopeAllowlistEntry.defaultPermissions") as? Bool == false)
            #expect(updated.at("ciJobTokenScopeUpdatePolicies.ciJobTokenScopeAllowlistEntry.jobTokenPolicies") as? [String] == ["READ_RELEASES", "READ_REPOSITORIES"])
            #expect(updated.at("ciJobTokenScopeUpdatePolicies.ciJobTokenScopeAllowlistEntry.direction") as? String == "inbound")
            let entries = try await server.store.jobTokenScope.entries(project: w.app, direction: .inbound)
            #expect(entries.first?.grant == AllowlistGrant(defaultPermissions: false, policies: [.readReleases, .readRepositories]))

            let unlisted = try await client.graphql(mutation, variables: ["target": "team"], token: w.aliceToken)
            #expect((unlisted.at("ciJobTokenScopeUpdatePolicies.errors") as? [String])?.count == 1)
            #expect(unlisted.at("ciJobTokenScopeUpdatePolicies.ciJobTokenScopeAllowlistEntry") is NSNull)
            let events = try await client.api(.get, "projects/\(w.app)/audit_events", token: w.aliceToken)
            #expect(events.array.first?["event_name"] as? String == "secure_ci_job_token_policies_updated")
        }
    }

    @Test("projectCiCdSettingsUpdate switches the scope and the push setting, and reports the instance's enforcement", arguments: TestBackend.all)
    func settingsUpdate(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let mutation = """
                mutation($inbound: Boolean, $push: Boolean) {
                  projectCiCdSettingsUpdate(input: {fullPath: "alice/app", inboundJobTokenScopeEnabled: $inbound, pushRepositoryForJobTokenAllowed: $push}) {
                    errors ciCdSettings { inboundJobTokenScopeEnabled pushRepositoryForJobTokenAllowed jobTokenScopeEnabled }
                  }
                }
                """
            let changed = try await client.graphql(mutation, variables: ["inbound": false, "push": true], token: w.aliceToken)
            #expect(changed.errors == [])
            #expect(changed.at("projectCiCdSettingsUpdate.errors") as? [String] == [])
            #expect(changed.at("projectCiCdSettingsUpdate.ciCdSettings.inboundJobTokenScopeEnabled") as? Bool == false)
            #expect(changed.at("projectCiCdSettingsUpdate.ciCdSettings.pushRepositoryForJobTokenAllowed") as? Bool == true)
            let stored = try #require(try await server.store.projects.find(id: w.app))
            #expect(stored.jobTokenInboundEnabled == false)
            #expect(stored.jobTokenPushAllowed == true)
            #expect(try await client.api(.get, "projects/\(w.app)/job_token_scope", token: w.aliceToken).object["inbound_enabled"] as? Bool == false)

            _ = try await client.api(.put, "application/settings", token: server.rootToken, json: ["enforce_ci_inbound_job_token_scope_enabled": true])
            let shown = try await client.graphql(#"{ project(fullPath: "alice/app") { ciCdSettings { inboundJobTokenScopeEnabled } } }"#, token: w.aliceToken)
            #expect(shown.at("project.ciCdSettings.inboundJobTokenScopeEnabled") as? Bool == true)
            let refused = try await client.graphql(mutation, variables: ["inbound": false], token: w.aliceToken)
            #expect(refused.status == .ok)
            #expect((refused.at("projectCiCdSettingsUpdate.errors") as? [String])?.first?.contains("enforces the job token allowlist") == true)

            #expect(try await client.graphql(mutation, variables: ["inbound": false], token: w.bobToken).errors == [Self.notAvailable])
            let events = try await client.api(.get, "projects/\(w.app)/audit_events", token: w.aliceToken)
            #expect(events.array.contains { $0["event_name"] as? String == "secure_ci_job_token_inbound_disabled" })
        }
    }

    @Test("the endpoint speaks GraphQL over HTTP: GET queries, no GET mutations, Bearer tokens, read_api reads only", arguments: TestBackend.all)
    func transport(_ backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let w = try await world(server, client)
            let query = #"{ project(fullPath: "alice/app") { fullPath } }"#
            let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let get = try await client.api(.get, "/api/graphql?query=\(encoded)", token: w.aliceToken)
            #expect(get.status == .ok)
            #expect(get.text == #"{"data":{"project":{"fullPath":"alice/app"}}}"#)

            let mutation = #"mutation { ciJobTokenScopeAddProject(input: {projectPath: "alice/app", targetProjectPath: "alice/other"}) { errors } }"#
            let getMutation = try await client.api(.get, "/api/graphql?query=\(mutation.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", token: w.aliceToken)
            #expect(getMutation.status == .methodNotAllowed)
            #expect(try await server.store.jobTokenScope.entries(project: w.app, direction: .inbound).isEmpty)

            let bearer = try await client.graphql(query, token: nil, headers: [.authorization: "Bearer \(w.aliceToken)"])
            #expect(bearer.at("project.fullPath") as? String == "alice/app")

            let (_, reader) = try await server.makeUser("reader", scopes: [.readAPI])
            let readerProject = try await client.createProject(["name": "mine"], token: w.aliceToken)
            _ = readerProject
            let readerUser = try #require(try await server.store.users.find(username: "reader"))
            try await client.addMember("projects", w.app, userID: readerUser.id, level: Level.maintainer, token: w.aliceToken)
            let read = try await client.graphql(query, token: reader)
            #expect(read.status == .ok)
            #expect(read.at("project.fullPath") as? String == "alice/app")
            let write = try await client.graphql(mutation, token: reader)
            #expect(write.errors == [Self.notAvailable])
            #expect(try await server.store.jobTokenScope.entries(project: w.app, direction: .inbound).isEmpty)

            let syntax = try await client.graphql("{ project(fullPath: ", token: w.aliceToken)
            #expect(syntax.status == .ok)
            #expect(syntax.errors.first?.contains("Syntax Error") == true)
            let unknownField = try await client.graphql(#"{ project(fullPath: "alice/app") { secrets } }"#, token: w.aliceToken)
            #expect(unknownField.errors.isEmpty == false)
            let notJSON = try await client.api(.post, "/api/graphql", token: w.aliceToken, form: "query")
            #expect(notJSON.status == .badRequest)
            #expect((notJSON.object["errors"] as? [[String: Any]])?.isEmpty == false)
        }
    }
}
