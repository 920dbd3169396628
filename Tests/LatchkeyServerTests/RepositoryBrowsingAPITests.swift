import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Repository tree, compare and archive API")
struct RepositoryBrowsingAPITests {
    /// A private project whose `main` holds a small tree, and a `feature` branch one commit ahead with a change, an addition and a rename.
    static func project(_ fixture: JobTokenFixture, name: String = "app") async throws -> (id: Int64, main: String, feature: String) {
        let id = try await fixture.project(name)
        let repository = fixture.server.environment.repositories.path(projectID: id)
        let main = try GitFixtures.commit(
            ["src/lib/a.swift": "let a = 1\n", "src/b.swift": "let b = 2\n", "docs/guide.md": "# Guide\n", "old.txt": "old\n"], to: repository, message: "tree")
        _ = try GitFixtures.git(["branch", "feature", main], in: repository)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-feature-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["clone", "--quiet", "--branch", "feature", repository.path, work.path])
        try Data("let b = 3\n".utf8).write(to: work.appendingPathComponent("src/b.swift"))
        try Data("new\n".utf8).write(to: work.appendingPathComponent("new.txt"))
        try GitFixtures.git(["mv", "old.txt", "renamed.txt"], in: work)
        try GitFixtures.git(["add", "--all"], in: work)
        try GitFixtures.git(["commit", "--quiet", "-m", "Feature work"], in: work)
        try GitFixtures.git(["push", "--quiet", "origin", "HEAD:refs/heads/feature"], in: work)
        let feature = try GitFixtures.git(["rev-parse", "HEAD"], in: work).trimmingCharacters(in: .whitespacesAndNewlines)
        return (id, main, feature)
    }

    @Test("the tree lists a directory trees first, recursively, by ref and path, paginated with GitLab's headers or keyset", arguments: TestBackend.all)
    func tree(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let project = try await Self.project(fixture)
            let root = Credential.pat(server.rootToken)
            let tree = "projects/\(project.id)/repository/tree"
            let top = try await client.send(.get, tree, root)
            #expect(top.status == .ok, "\(top.text)")
            #expect(top.array.compactMap { $0["name"] as? String } == ["docs", "src", ".gitlab-ci.yml", "README.md", "old.txt"])
            #expect(top.array.first?["type"] as? String == "tree")
            #expect(top.array.first?["mode"] as? String == "040000")
            #expect((top.array.first?["id"] as? String)?.count == 40)
            #expect(top.header("X-Total") == "5")
            #expect(top.header("X-Page") == "1")

            let src = try await client.send(.get, tree + "?path=src", root)
            #expect(src.array.compactMap { $0["path"] as? String } == ["src/lib", "src/b.swift"])
            let trailing = try await client.send(.get, tree + "?path=%2Fsrc%2Flib%2F", root)
            #expect(trailing.array.compactMap { $0["path"] as? String } == ["src/lib/a.swift"])
            #expect(trailing.array.first?["mode"] as? String == "100644")
            let recursive = try await client.send(.get, tree + "?recursive=true&per_page=100", root)
            #expect(recursive.array.compactMap { $0["path"] as? String }
                == ["docs", "src", "src/lib", ".gitlab-ci.yml", "README.md", "docs/guide.md", "old.txt", "src/b.swift", "src/lib/a.swift"])
            let feature = try await client.send(.get, tree + "?ref=feature", root)
            #expect(feature.array.compactMap { $0["name"] as? String }.contains("renamed.txt"))
            let bySHA = try await client.send(.get, tree + "?ref=\(project.main)", root)
            #expect(bySHA.array.count == 5)

            let paged = try await client.send(.get, tree + "?per_page=2&page=2", root)
            #expect(paged.array.compactMap { $0["name"] as? String } == [".gitlab-ci.yml", "README.md"])
            #expect(paged.header("X-Total-Pages") == "3")
            #expect(paged.header("X-Next-Page") == "3")
            #expect(paged.header("Link")?.contains("rel=\"next\"") == true)
            let keyset = try await client.send(.get, tree + "?pagination=keyset&per_page=2", root)
            #expect(keyset.array.count == 2)
            let next = try #require(keyset.header("Link"))
            let token = try #require(keyset.array.last?["id"] as? String)
            #expect(next.contains("page_token=\(token)"))
            let second = try await client.send(.get, tree + "?pagination=keyset&per_page=2&page_token=\(token)", root)
            #expect(second.array.compactMap { $0["name"] as? String } == [".gitlab-ci.yml", "README.md"])
            let none = try await client.send(.get, tree + "?recursive=true&pagination=none", root)
            #expect(none.array.count == 9)
            #expect(none.header("X-Total") == nil)

            let noneFlat = try await client.send(.get, tree + "?pagination=none", root)
            #expect(noneFlat.status == .badRequest)
            #expect(noneFlat.string("error") == "pagination cannot be \"none\" unless \"recursive\" is true")
            let unknownRef = try await client.send(.get, tree + "?ref=nope", root)
            #expect(unknownRef.status == .notFound)
            #expect(unknownRef.string("message") == "404 Tree Not Found")
            let unknownPath = try await client.send(.get, tree + "?path=bogus", root)
            #expect(unknownPath.status == .notFound)
            #expect(unknownPath.string("message") == "404 invalid revision or path Not Found")
            #expect(try await client.send(.get, tree + "?path=README.md", root).status == .notFound, "a file is not a tree")
        }
    }

    @Test("hostile tree and archive input is a clear 4xx: dot segments, NUL, option-looking refs, huge paths", arguments: TestBackend.all)
    func hostileInput(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let project = try await Self.project(fixture)
            let root = Credential.pat(server.rootToken)
            for route in ["tree", "archive"] {
                let base = "projects/\(project.id)/repository/\(route)"
                for path in ["..", "src/../..", "./src", "src%00x", "a%0Ab", String(repeating: "a/", count: 2100)] {
                    #expect(try await client.send(.get, base + "?path=\(path)", root).status == .badRequest, "\(route) path \(path.prefix(20))")
                }
                for ref in ["--output=/tmp/pwned", "-h", "main..feature", "main~1", "main^", "HEAD@{1}", "main:src", "ma\u{0}in"] {
                    let key = route == "tree" ? "ref" : "sha"
                    let encoded = ref.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ref
                    let status = try await client.send(.get, base + "?\(key)=\(encoded)", root).status
                    #expect(status == .notFound, "\(route) \(key) \(ref)")
                }
            }
            let compare = "projects/\(project.id)/repository/compare"
            #expect(try await client.send(.get, compare + "?from=--output%3D%2Ftmp%2Fpwned&to=main", root).status == .badRequest)
            #expect(try await client.send(.get, compare + "?from=main&to=-p", root).status == .badRequest)
            #expect(!FileManager.default.fileExists(atPath: "/tmp/pwned"))
        }
    }

    @Test("compare lists the commits and diffs from the merge base, or straight, with GitLab's entity", arguments: TestBackend.all)
    func compare(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let project = try await Self.project(fixture)
            let root = Credential.pat(server.rootToken)
            let compare = "projects/\(project.id)/repository/compare"
            let ahead = try await client.send(.get, compare + "?from=main&to=feature", root)
            #expect(ahead.status == .ok, "\(ahead.text)")
            #expect(ahead.array.isEmpty)
            let commits = try #require(ahead.object["commits"] as? [[String: Any]])
            #expect(commits.compactMap { $0["id"] as? String } == [project.feature])
            #expect(commits.first?["title"] as? String == "Feature work")
            #expect((ahead.object["commit"] as? [String: Any])?["id"] as? String == project.feature)
            #expect(ahead.object["compare_same_ref"] as? Bool == false)
            #expect(ahead.object["compare_timeout"] as? Bool == false)
            #expect(ahead.string("web_url") == "http://latchkey.test/root/app/-/compare/main...feature")
            let diffs = try #require(ahead.object["diffs"] as? [[String: Any]])
            let byPath = Dictionary(uniqueKeysWithValues: diffs.compactMap { diff in (diff["new_path"] as? String).map { ($0, diff) } })
            #expect(Set(byPath.keys) == ["new.txt", "renamed.txt", "src/b.swift"])
            #expect(byPath["new.txt"]?["new_file"] as? Bool == true)
            #expect(byPath["new.txt"]?["a_mode"] as? String == "0")
            #expect(byPath["new.txt"]?["b_mode"] as? String == "100644")
            #expect(byPath["renamed.txt"]?["renamed_file"] as? Bool == true)
            #expect(byPath["renamed.txt"]?["old_path"] as? String == "old.txt")
            let patch = try #require(byPath["src/b.swift"]?["diff"] as? String)
            #expect(patch.hasPrefix("@@ -1 +1 @@"), "\(patch)")
            #expect(patch.contains("-let b = 2\n+let b = 3\n"))

            let behind = try await client.send(.get, compare + "?from=feature&to=main", root)
            #expect((behind.object["commits"] as? [Any])?.isEmpty == true)
            #expect((behind.object["diffs"] as? [Any])?.isEmpty == true, "from the merge base, main brings nothing")
            #expect(behind.object["commit"] is NSNull)
            let straight = try await client.send(.get, compare + "?from=feature&to=main&straight=true", root)
            #expect((straight.object["diffs"] as? [Any])?.count == 3, "straight compares the two trees")
            let same = try await client.send(.get, compare + "?from=main&to=\(project.main)", root)
            #expect(same.object["compare_same_ref"] as? Bool == true)
            let unknown = try await client.send(.get, compare + "?from=main&to=nope", root)
            #expect(unknown.status == .notFound)
            #expect(unknown.string("message") == "404 Ref Not Found")
            let missing = try await client.send(.get, compare + "?from=main", root)
            #expect(missing.status == .badRequest)
            #expect(missing.string("error") == "to is missing")
            #expect(try await client.send(.get, compare + "?from=main&to=feature&from_project_id=999", root).status == .badRequest)
        }
    }

    @Test("the archive streams tar.gz, zip or tar of a ref or a path inside it, named as GitLab names it", arguments: TestBackend.all)
    func archive(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let project = try await Self.project(fixture)
            let root = Credential.pat(server.rootToken)
            let base = "projects/\(project.id)/repository/archive"
            let tgz = try await client.send(.get, base, root)
            #expect(tgz.status == .ok)
            #expect(tgz.header("Content-Disposition") == "attachment; filename=\"app-main-\(project.main).tar.gz\"")
            #expect(tgz.body.prefix(2) == Data([0x1F, 0x8B]), "gzip magic")
            #expect(try Self.listing(tgz.body, tar: true).contains("app-main-\(project.main)/src/lib/a.swift"))
            let zip = try await client.send(.get, base + ".zip?sha=feature", root)
            #expect(zip.status == .ok)
            #expect(zip.header("Content-Disposition") == "attachment; filename=\"app-feature-\(project.feature).zip\"")
            #expect(zip.body.prefix(2) == Data("PK".utf8))
            #expect(try Self.listing(zip.body, tar: false).contains("app-feature-\(project.feature)/renamed.txt"))
            let sub = try await client.send(.get, base + ".tar?path=src/lib", root)
            #expect(sub.status == .ok)
            let entries = try Self.listing(sub.body, tar: true)
            #expect(entries.contains("app-main-\(project.main)-src-lib/src/lib/a.swift"))
            #expect(!entries.contains { $0.hasSuffix("README.md") }, "only the path")
            #expect(try await client.send(.get, base + "?format=zip", root).header("Content-Disposition")?.hasSuffix(".zip\"") == true)
            #expect(try await client.send(.get, base + ".tar.bz2", root).status == .badRequest)
            #expect(try await client.send(.get, base + ".exe", root).status == .badRequest)
            let unknown = try await client.send(.get, base + "?sha=nope", root)
            #expect(unknown.status == .notFound)
            #expect(unknown.string("message") == "404 File Not Found")
            #expect(try await client.send(.get, base + "?path=missing", root).status == .notFound)
        }
    }

    @Test("tree, compare and archive need read_code: Guests are refused, strangers and job tokens see nothing, public projects are open", arguments: TestBackend.all)
    func access(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let project = try await Self.project(fixture)
            let routes = ["tree", "compare?from=main&to=feature", "archive"].map { "projects/\(project.id)/repository/\($0)" }
            let (_, guest) = try await fixture.user("guest", level: Level.guest, on: project.id)
            let (_, reporter) = try await fixture.user("reporter", level: Level.reporter, on: project.id)
            let (_, stranger) = try await fixture.user("stranger", level: nil, on: project.id)
            let job = try await fixture.runningJob(project.id)
            for route in routes {
                #expect(try await client.send(.get, route, .pat(reporter)).status == .ok, "\(route)")
                #expect(try await client.send(.get, route, .pat(guest)).status == .forbidden, "\(route)")
                let hidden = try await client.send(.get, route, .pat(stranger))
                #expect(hidden.status == .notFound, "\(route)")
                #expect(hidden.string("message") == "404 Project Not Found")
                #expect(try await client.send(.get, route, .none).status == .notFound, "\(route)")
                // Not in GitLab's job-token table: the token is no credential here, so the private project stays hidden.
                #expect(try await client.send(.get, route, .jobHeader(job.token)).status == .notFound, "\(route)")
            }
            _ = try await client.api(.put, "projects/\(project.id)", token: server.rootToken, json: ["visibility": "public"])
            for route in routes {
                #expect(try await client.send(.get, route, .none).status == .ok, "\(route)")
                #expect(try await client.send(.get, route, .pat(stranger)).status == .ok, "\(route)")
            }
        }
    }

    /// The file names inside an archive, read by Python's tarfile or zipfile (not by the server's code).
    static func listing(_ archive: Data, tar: Bool) throws -> [String] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("archive-\(UUID().uuidString)")
        try archive.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = tar
            ? "import sys,tarfile\nprint('\\n'.join(m.name for m in tarfile.open(sys.argv[1])))"
            : "import sys,zipfile\nprint('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))"
        let (status, output) = try Subprocess.run(["/usr/bin/env", "python3", "-c", script, file.path], environment: ProcessInfo.processInfo.environment)
        guard status == 0 else { throw Zip.ZipFailure() }
        return String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
