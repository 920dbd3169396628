import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
@testable import LatchkeyServer
import LatchkeyStore
import LatchkeyTestSupport
import Testing

/// `/personal_access_tokens`: listing with GitLab's filters, showing, revoking and rotating, by id and as `self`.
@Suite("Personal access token lifecycle")
struct PersonalAccessTokensAPITests {
    static let entityKeys: Set<String> = ["id", "name", "revoked", "created_at", "description", "scopes", "user_id", "last_used_at", "active", "expires_at"]

    /// Makes a token for `userID` through the store, optionally backdated, and returns its id and secret.
    static func token(
        _ server: TestServer, userID: Int64, name: String = "extra", scopes: [TokenScope] = [.api], expiresAt: String? = nil, createdAt: Date = Date()
    ) async throws -> (Int64, String) {
        let secret = SecretToken.mint(.personalAccess)
        let stored = try await server.store.personalAccessTokens.create(
            userID: userID, name: name, digest: server.environment.digester.digest(secret), scopes: scopes, expiresAt: expiresAt, createdAt: createdAt)
        return (stored.id, secret.value)
    }

    @Test("a user lists and shows their own tokens as GitLab's entity, and a revoked token is refused on the very next request", arguments: TestBackend.all)
    func revokeOwn(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            #expect(try await client.api(.get, "personal_access_tokens").status == .unauthorized)
            let (alice, aliceToken) = try await server.makeUser("alice")
            let (second, _) = try await Self.token(server, userID: alice.id, name: "second")
            _ = try await server.makeUser("bob")

            let list = try await client.api(.get, "personal_access_tokens", token: aliceToken)
            #expect(list.status == .ok)
            #expect(list.array.count == 2 && list.array.allSatisfy { ($0["user_id"] as? NSNumber)?.int64Value == alice.id })
            #expect(Set(list.array[0].keys) == Self.entityKeys, "\(list.array[0].keys.sorted())")
            #expect(list.header("X-Total") == "2")
            // Authenticating records the use.
            #expect(list.array[0]["last_used_at"] is String)

            let shown = try await client.api(.get, "personal_access_tokens/\(second)", token: aliceToken)
            #expect(shown.status == .ok && shown.string("name") == "second" && shown.object["active"] as? Bool == true && shown.object["token"] == nil)

            #expect(try await client.api(.delete, "personal_access_tokens/\(second)", token: aliceToken).status == .noContent)
            let again = try await client.api(.get, "personal_access_tokens/\(second)", token: aliceToken)
            #expect(again.object["revoked"] as? Bool == true && again.object["active"] as? Bool == false)
        }
    }

    @Test("revoking the token in use (by id or as self) makes the next request with it 401", arguments: TestBackend.all)
    func revokedTokenDiesAtOnce(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (alice, aliceToken) = try await server.makeUser("alice")
            let (byID, byIDSecret) = try await Self.token(server, userID: alice.id)
            #expect(try await client.api(.get, "user", token: byIDSecret).status == .ok)
            #expect(try await client.api(.delete, "personal_access_tokens/\(byID)", token: aliceToken).status == .noContent)
            #expect(try await client.api(.get, "user", token: byIDSecret).status == .unauthorized)

            let me = try await client.api(.get, "personal_access_tokens/self", token: aliceToken)
            #expect(me.status == .ok && (me.object["user_id"] as? NSNumber)?.int64Value == alice.id && Set(me.object.keys) == Self.entityKeys)
            #expect(try await client.api(.delete, "personal_access_tokens/self", token: aliceToken).status == .noContent)
            #expect(try await client.api(.get, "user", token: aliceToken).status == .unauthorized)
            #expect(try await client.api(.get, "personal_access_tokens/self", token: aliceToken).status == .unauthorized)
            #expect(try await client.api(.delete, "personal_access_tokens/self").status == .unauthorized)
        }
    }

    @Test("another user's token is 401 to show or rotate and 400 to revoke; a missing one is 404 only to an administrator", arguments: TestBackend.all)
    func othersTokens(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, aliceToken) = try await server.makeUser("alice")
            let (bob, bobToken) = try await server.makeUser("bob")
            let (bobsID, bobsSecret) = try await Self.token(server, userID: bob.id)
            #expect(try await client.api(.get, "personal_access_tokens/\(bobsID)", token: aliceToken).status == .unauthorized)
            #expect(try await client.api(.post, "personal_access_tokens/\(bobsID)/rotate", token: aliceToken).status == .unauthorized)
            let revoke = try await client.api(.delete, "personal_access_tokens/\(bobsID)", token: aliceToken)
            #expect(revoke.status == .badRequest && revoke.string("message") == "400 Bad request")
            #expect(try await client.api(.get, "user", token: bobsSecret).status == .ok)
            #expect(try await client.api(.get, "personal_access_tokens", token: aliceToken, headers: [:]).array.count == 1)
            #expect(try await client.api(.get, "personal_access_tokens?user_id=\(bob.id)", token: aliceToken).status == .unauthorized)

            #expect(try await client.api(.get, "personal_access_tokens/999999", token: aliceToken).status == .unauthorized)
            #expect(try await client.api(.post, "personal_access_tokens/999999/rotate", token: aliceToken).status == .unauthorized)
            #expect(try await client.api(.delete, "personal_access_tokens/999999", token: aliceToken).status == .notFound)
            let missing = try await client.api(.get, "personal_access_tokens/999999", token: server.rootToken)
            #expect(missing.status == .notFound && missing.string("message") == "404 Not Found")
            #expect(try await client.api(.post, "personal_access_tokens/999999/rotate", token: server.rootToken).status == .notFound)

            // An administrator sees, rotates and revokes anyone's.
            #expect(try await client.api(.get, "personal_access_tokens/\(bobsID)", token: server.rootToken).status == .ok)
            #expect(try await client.api(.delete, "personal_access_tokens/\(bobsID)", token: server.rootToken).status == .noContent)
            #expect(try await client.api(.get, "user", token: bobsSecret).status == .unauthorized)
            #expect(try await client.api(.get, "user", token: bobToken).status == .ok)
            // A read_api token may look but not revoke.
            let (_, reader) = try await server.makeUser("reader", scopes: [.readAPI])
            #expect(try await client.api(.get, "personal_access_tokens", token: reader).status == .ok)
            #expect(try await client.api(.delete, "personal_access_tokens/self", token: reader).status == .noContent)
        }
    }

    @Test("an administrator lists every token and filters by user; an unknown or blank user_id is 404", arguments: TestBackend.all)
    func administratorListing(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (alice, _) = try await server.makeUser("alice")
            _ = try await server.makeUser("bob")
            let all = try await client.api(.get, "personal_access_tokens", token: server.rootToken)
            #expect(all.status == .ok && all.array.count == 3)
            let alices = try await client.api(.get, "personal_access_tokens?user_id=\(alice.id)", token: server.rootToken)
            #expect(alices.array.count == 1 && (alices.array.first?["user_id"] as? NSNumber)?.int64Value == alice.id)
            let unknown = try await client.api(.get, "personal_access_tokens?user_id=999999", token: server.rootToken)
            #expect(unknown.status == .notFound && unknown.string("message") == "404 Not Found")
            #expect(try await client.api(.get, "personal_access_tokens?user_id=", token: server.rootToken).status == .notFound)
            #expect(try await client.api(.get, "personal_access_tokens?user_id=abc", token: server.rootToken).status == .badRequest)
        }
    }

    @Test("the list honours revoked, state, search, created_* and last_used_* and refuses bad values with GitLab's messages", arguments: TestBackend.all)
    func filters(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (alice, aliceToken) = try await server.makeUser("alice")
            let current = try await client.api(.get, "personal_access_tokens/self", token: aliceToken).id
            let (old, _) = try await Self.token(server, userID: alice.id, name: "test_1", createdAt: Date(timeIntervalSince1970: 1_641_040_225))  // 2022-01-01T12:30:25Z
            let (expired, _) = try await Self.token(server, userID: alice.id, name: "test_2", expiresAt: "2022-01-01")
            let (revoked, _) = try await Self.token(server, userID: alice.id, name: "gone")
            #expect(try await client.api(.delete, "personal_access_tokens/\(revoked)", token: aliceToken).status == .noContent)
            try await server.store.personalAccessTokens.markUsed(id: old, at: Date(timeIntervalSince1970: 1_641_040_225))

            func ids(_ query: String) async throws -> Set<Int64> {
                let response = try await client.api(.get, "personal_access_tokens?\(query)", token: aliceToken)
                #expect(response.status == .ok, "\(query): \(response.text)")
                return Set(response.ids)
            }
            #expect(try await ids("revoked=true") == [revoked])
            #expect(try await ids("revoked=false") == [current, old, expired])
            #expect(try await ids("state=active") == [current, old])
            #expect(try await ids("state=inactive") == [expired, revoked])
            // The user's first token is named "test" too.
            #expect(try await ids("search=TEST") == [current, old, expired])
            #expect(try await ids("search=test_1") == [old])
            #expect(try await ids("created_before=2022-01-02") == [old])
            #expect(try await ids("created_before=2022-01-01T12:30:24") == [])
            #expect(try await ids("created_before=2022-01-01T12:30:25") == [old])
            #expect(try await ids("created_after=2022-01-01T12:30:26") == [current, expired, revoked])
            #expect(try await ids("last_used_before=2022-01-02") == [old])
            #expect(try await ids("last_used_after=2022-01-03") == [current])
            #expect(try await ids("last_used_before=2022-01-03&last_used_after=2022-01-01") == [old])
            #expect(try await ids("expires_before=2023-01-01") == [expired])

            for (query, message) in [
                ("revoked=asdf", "revoked is invalid"), ("state=asdf", "state does not have a valid value"),
                ("created_before=asdf", "created_before is invalid"), ("created_after=2022-13-01", "created_after is invalid"),
                ("last_used_before=asdf", "last_used_before is invalid"), ("last_used_after=2022-02-30", "last_used_after is invalid"),
                ("sort=created_desc", "sort is not supported by this server"),
            ] {
                let response = try await client.api(.get, "personal_access_tokens?\(query)", token: aliceToken)
                #expect(response.status == .badRequest && response.string("error") == message, "\(query): \(response.text)")
            }
        }
    }

    @Test("rotating answers a new token with GitLab's shape, revokes the old one at once, and defaults expires_at to a week", arguments: TestBackend.all)
    func rotate(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (alice, aliceToken) = try await server.makeUser("alice")
            let (id, secret) = try await Self.token(server, userID: alice.id, name: "deploy", scopes: [.readAPI, .readRepository])
            let rotated = try await client.api(.post, "personal_access_tokens/\(id)/rotate", token: aliceToken)
            #expect(rotated.status == .ok, "\(rotated.text)")
            #expect(Set(rotated.object.keys) == Self.entityKeys.union(["token"]))
            let new = try #require(rotated.string("token"))
            #expect(new != secret && rotated.id != id && rotated.string("name") == "deploy")
            #expect(rotated.object["scopes"] as? [String] == ["read_api", "read_repository"])
            #expect(rotated.string("expires_at") == PersonalAccessToken.day(Date().addingTimeInterval(7 * 86_400)))
            #expect(try await client.api(.get, "user", token: secret).status == .unauthorized)
            #expect(try await client.api(.get, "user", token: new).status == .ok)
            let again = try await client.api(.post, "personal_access_tokens/\(id)/rotate", token: aliceToken)
            #expect(again.status == .badRequest && again.string("message") == "400 Bad request - Token already revoked")

            let month = PersonalAccessToken.day(Date().addingTimeInterval(30 * 86_400))
            let chosen = try await client.api(.post, "personal_access_tokens/\(rotated.id)/rotate", token: aliceToken, json: ["expires_at": month])
            #expect(chosen.status == .ok && chosen.string("expires_at") == month)
            let tooLate = try await client.api(.post, "personal_access_tokens/\(chosen.id)/rotate", token: aliceToken, json: ["expires_at": "2999-01-01"])
            #expect(tooLate.status == .badRequest && tooLate.string("message")?.hasPrefix("400 Bad request - Expires at must be before ") == true)
            #expect(try await client.api(.post, "personal_access_tokens/\(chosen.id)/rotate", token: aliceToken, json: ["expires_at": "soon"]).status == .badRequest)
        }
    }

    @Test("a token of any scope reads and revokes itself; rotating itself needs api or self_rotate", arguments: TestBackend.all)
    func selfRoutes(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (alice, _) = try await server.makeUser("alice")
            let (_, gitOnly) = try await Self.token(server, userID: alice.id, scopes: [.readRepository])
            #expect(try await client.api(.get, "personal_access_tokens", token: gitOnly).status == .forbidden)
            #expect(try await client.api(.get, "personal_access_tokens/self", token: gitOnly).status == .ok)
            #expect(try await client.api(.post, "personal_access_tokens/self/rotate", token: gitOnly).status == .forbidden)
            #expect(try await client.api(.delete, "personal_access_tokens/self", token: gitOnly).status == .noContent)
            #expect(try await client.api(.get, "personal_access_tokens/self", token: gitOnly).status == .unauthorized)

            let (selfRotateID, selfRotating) = try await Self.token(server, userID: alice.id, scopes: [.selfRotate])
            #expect(try await client.api(.get, "user", token: selfRotating).status == .forbidden)
            let rotated = try await client.api(.post, "personal_access_tokens/self/rotate", token: selfRotating)
            #expect(rotated.status == .ok && rotated.id != selfRotateID && rotated.object["scopes"] as? [String] == ["self_rotate"])
            #expect(try await client.api(.get, "personal_access_tokens/self", token: selfRotating).status == .unauthorized)
            let next = try #require(rotated.string("token"))
            #expect(try await client.api(.get, "personal_access_tokens/self", token: next).id == rotated.id)
            #expect(try await client.api(.post, "personal_access_tokens/self/rotate").status == .unauthorized)
        }
    }

    @Test("job tokens are refused on every token route", arguments: TestBackend.all)
    func jobTokensRefused(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, aliceToken) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app", "initialize_with_readme": true], token: aliceToken)
            let job = try await client.runningJob(server, projectID: project.id, userToken: aliceToken)
            let bearer: HTTPFields = [.authorization: "Bearer \(job.token)"]
            for (method, path) in [
                (HTTPRequest.Method.get, "personal_access_tokens"), (.get, "personal_access_tokens/self"), (.delete, "personal_access_tokens/self"),
                (.post, "personal_access_tokens/self/rotate"), (.get, "personal_access_tokens/1"), (.post, "personal_access_tokens/1/rotate"),
            ] {
                #expect(try await client.api(method, path, headers: job.headers).status == .unauthorized, "\(method) \(path)")
                #expect(try await client.api(method, path, headers: bearer).status == .unauthorized, "\(method) \(path) bearer")
                #expect(try await client.api(method, path, token: job.token).status == .unauthorized, "\(method) \(path) private")
            }
        }
    }

    @Test("a new token without expires_at lives GitLab's 365 days, keeps its description, and may not outlive that", arguments: TestBackend.all)
    func creationExpiry(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (alice, _) = try await server.makeUser("alice")
            let created = try await client.api(
                .post, "users/\(alice.id)/personal_access_tokens", token: server.rootToken, json: ["name": "ci", "scopes": ["api"], "description": "for CI"])
            #expect(created.status == .created, "\(created.text)")
            #expect(created.string("expires_at") == PersonalAccessToken.day(Date().addingTimeInterval(365 * 86_400)))
            #expect(created.string("description") == "for CI" && created.string("token") != nil)
            let tooLate = try await client.api(
                .post, "users/\(alice.id)/personal_access_tokens", token: server.rootToken, json: ["name": "ci", "scopes": ["api"], "expires_at": "2999-01-01"])
            #expect(tooLate.status == .unprocessableContent && tooLate.string("message")?.hasPrefix("Expires at must be before ") == true, "\(tooLate.text)")
            let rotated = try await client.api(.post, "personal_access_tokens/\(created.id)/rotate", token: server.rootToken)
            #expect(rotated.string("description") == "for CI")
        }
    }
}

/// The one parser of date and date-time filter values.
@Suite("Timestamp parameters")
struct TimestampParameterTests {
    @Test("the forms clients send parse to the instant they name, UTC unless a zone is given")
    func accepted() {
        #expect(TimestampParameter.parse("2022-01-01") == Date(timeIntervalSince1970: 1_640_995_200))
        #expect(TimestampParameter.parse("2022-01-01T12:30:25") == Date(timeIntervalSince1970: 1_641_040_225))
        #expect(TimestampParameter.parse("2022-01-01 12:30:25Z") == Date(timeIntervalSince1970: 1_641_040_225))
        #expect(TimestampParameter.parse("2022-01-01T13:30:25+01:00") == Date(timeIntervalSince1970: 1_641_040_225))
        #expect(TimestampParameter.parse("2022-01-01T12:30") == Date(timeIntervalSince1970: 1_641_040_200))
        #expect(TimestampParameter.parse("2024-02-29T00:00:00.500Z") == Date(timeIntervalSince1970: 1_709_164_800.5))
        #expect(TimestampParameter.parse("1969-12-31") == Date(timeIntervalSince1970: -86_400))
    }

    @Test("impossible dates, trailing bytes and other text are refused", arguments: [
        "", "asdf", "2022-1-01", "2022-13-01", "2022-02-29", "2022-01-32", "2022-01-01T24:00", "2022-01-01T12:60", "2022-01-01T12:30:61",
        "2022-01-01T12:30:25+99:00", "2022-01-01T12:30:25 junk", "2022-01-01x", "٢٠٢٢-01-01", String(repeating: "9", count: 100),
    ])
    func refused(text: String) {
        #expect(TimestampParameter.parse(text) == nil)
    }
}
