import Foundation
import Testing

@testable import LatchkeyRunner

@Suite("Runner configuration")
struct RunnerConfigurationTests {
    @Test("The configuration file is written with mode 0600 in snake_case and reads back equal")
    func roundTrip() throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let path = fixtures.directory.appendingPathComponent("runner.json").path
        var configuration = fixtures.configuration
        configuration.jobUser = "nobody"
        configuration.concurrent = 3
        try configuration.save(to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"builds_directory\""))
        #expect(text.contains("\"job_user\" : \"nobody\""))
        #expect(try RunnerConfiguration.load(from: path) == configuration)
        // Saving again replaces the file.
        try configuration.save(to: path)
    }

    @Test("A minimal file with only url and token gets the defaults")
    func defaults() throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let path = fixtures.directory.appendingPathComponent("minimal.json").path
        try Data(#"{"url": "http://ci.example", "token": "glrt-abc"}"#.utf8).write(to: URL(fileURLWithPath: path))
        let configuration = try RunnerConfiguration.load(from: path)
        #expect(configuration.concurrent == 1)
        #expect(configuration.shell == "sh")
        #expect(configuration.jobUser == nil)
        #expect(configuration.systemID.hasPrefix("s_") && configuration.systemID.count == 14)
    }

    @Test("The token never appears in the configuration's description")
    func redacted() {
        let configuration = RunnerConfiguration(url: "http://ci.example", token: "glrt-supersecret")
        #expect(!"\(configuration)".contains("supersecret"))
        #expect("\(configuration)".contains("glrt-…[REDACTED]"))
    }

    @Test("A server URL that is not http(s) is refused")
    func invalidURL() {
        #expect(throws: RunnerError.invalidURL("ftp://x")) { try HTTPRunnerAPI(url: "ftp://x", client: .shared) }
    }

    @Test("The generated script echoes each command in green, quoted safely, and skips blank ones")
    func script() {
        let script = ShellScript.render(["echo 'it''s'", "", "for i in 1 2; do\n  echo $i\ndone"], workingDirectory: "/b/1 x")
        #expect(script.contains("cd -- '/b/1 x'\n"))
        #expect(script.contains("printf '%s\\n' '\u{1B}[32;1m$ echo '\\''it'\\'''\\''s'\\''\u{1B}[0;m'\necho 'it''s'\n"))
        #expect(script.contains("$ for i in 1 2; do # collapsed multi-line command"))
        #expect(!script.contains("$ \u{1B}"))
    }
}
