import Foundation
import Testing

@testable import LatchkeyCore

@Suite("The README's first pipeline is valid as written")
struct READMERecipeTests {
    /// The `.gitlab-ci.yml` the README's first recipe writes with `cat > .gitlab-ci.yml <<'YAML'`.
    static func recipe() throws -> String {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../README.md").standardized
        let text = try String(contentsOf: readme, encoding: .utf8)
        let start = try #require(text.range(of: "cat > .gitlab-ci.yml <<'YAML'\n"))
        let end = try #require(text.range(of: "\nYAML\n", range: start.upperBound..<text.endIndex))
        return String(text[start.upperBound..<end.lowerBound])
    }

    @Test("its .gitlab-ci.yml creates one job whose script lines reach the runner unchanged")
    func recipeParses() throws {
        let definition = try CIConfigParser.parse(try Self.recipe())
        let job = try #require(definition.jobs.first)
        #expect(definition.jobs.count == 1)
        #expect(job.script.count == 2)
        #expect(job.script.last == #"curl -sf -H "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/job""#)
    }
}
