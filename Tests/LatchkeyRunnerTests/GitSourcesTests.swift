import Foundation
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyRunner

@Suite("Git sources")
struct GitSourcesTests {
    /// A bare repository with two commits on main; returns its URL and the commits, oldest first.
    static func makeRepository(in fixtures: JobFixtures) throws -> (url: URL, commits: [String]) {
        let bare = fixtures.directory.appendingPathComponent("project.git", isDirectory: true)
        try GitFixtures.git(["init", "--quiet", "--bare", "--initial-branch=main", bare.path])
        let first = try GitFixtures.commit(["README.md": "first\n"], to: bare, message: "first")
        let second = try GitFixtures.commit(["README.md": "second\n", "src/app.sh": "echo app\n"], to: bare, message: "second")
        return (bare, [first, second])
    }

    @Test("The job's commit is checked out detached in the workspace with the requested depth")
    func clone() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let repository = try Self.makeRepository(in: fixtures)
        let job = JobFixtures.job(
            script: ["git rev-parse HEAD", "cat README.md", "echo commits=$(git rev-list --count HEAD)", "echo origin=$(git config --get remote.origin.url)"],
            repository: ("file://" + repository.url.path, repository.commits[1], 1))
        let outcome = await fixtures.executor().run(job)
        #expect(outcome.state == .success)
        let trace = await fixtures.api.traceText
        #expect(trace.contains("Fetching changes with git depth set to 1..."))
        #expect(trace.contains("Checking out \(repository.commits[1].prefix(8)) as detached HEAD"))
        #expect(trace.contains(repository.commits[1] + "\n"))
        #expect(trace.contains("second\n"))
        #expect(trace.contains("commits=1\n"))
        #expect(trace.contains("origin=file://\(repository.url.path)\n"))
    }

    @Test("A full clone (depth 0) can check out an older commit")
    func fullClone() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let repository = try Self.makeRepository(in: fixtures)
        let job = JobFixtures.job(script: ["cat README.md", "echo commits=$(git rev-list --count HEAD)"], repository: ("file://" + repository.url.path, repository.commits[0], 0))
        let outcome = await fixtures.executor().run(job)
        #expect(outcome.state == .success)
        let trace = await fixtures.api.traceText
        #expect(trace.contains("first\n"))
        #expect(trace.contains("commits=1\n"))
    }

    @Test("A clone that fails is a runner system failure and the script never runs")
    func cloneFailure() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let job = JobFixtures.job(
            script: ["echo script-ran"], repository: ("file://" + fixtures.directory.appendingPathComponent("missing.git").path, "abc", 0))
        let outcome = await fixtures.executor().run(job)
        #expect(outcome.state == .failed)
        #expect(outcome.failureReason == "runner_system_failure")
        #expect(!(await fixtures.api.traceText).contains("script-ran\n"))
    }

    @Test("Credentials are split off the repository URL into an Authorization header for that origin only")
    func credentialsSplit() {
        let split = JobExecutor.splitCredentials("http://gitlab-ci-token:glcbt-abc123@localhost:8080/group/project.git")
        #expect(split.url == "http://localhost:8080/group/project.git")
        #expect(split.origin == "http://localhost:8080/")
        #expect(split.authorizationHeader == "Authorization: Basic " + Data("gitlab-ci-token:glcbt-abc123".utf8).base64EncodedString())
        let plain = JobExecutor.splitCredentials("file:///srv/repo.git")
        #expect(plain.url == "file:///srv/repo.git")
        #expect(plain.authorizationHeader == nil)
    }

    @Test("The job token in the repository URL never reaches the trace, even when the fetch fails")
    func tokenNotPersisted() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        // An unreachable HTTP remote: the fetch fails, but what git printed and stored is still checked.
        let token = JobFixtures.token()
        let job = JobFixtures.job(
            script: ["true"], repository: ("http://gitlab-ci-token:\(token)@127.0.0.1:9/group/project.git", "abc", 0), token: token)
        _ = await fixtures.executor().run(job)
        let trace = await fixtures.api.traceText
        #expect(!trace.contains(token))
        #expect(!trace.contains(String(token.dropFirst(6))))
        #expect(trace.contains("127.0.0.1:9"))
    }
}
