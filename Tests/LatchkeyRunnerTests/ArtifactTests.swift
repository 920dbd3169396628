import Foundation
import LatchkeyCore
import Testing
import ZIPFoundation

@testable import LatchkeyRunner

@Suite("Artifacts")
struct ArtifactTests {
    /// a.txt, b.log, dir/x/y.txt, dir/z.bin, dir/.hidden, link -> outside, escape.txt -> outside file.
    static func makeTree(in fixtures: JobFixtures) throws -> (root: URL, outside: URL) {
        let root = fixtures.directory.appendingPathComponent("checkout", isDirectory: true)
        let outside = fixtures.directory.appendingPathComponent("outside", isDirectory: true)
        for directory in [root.appendingPathComponent("dir/x"), outside] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        for file in ["a.txt", "b.log", "dir/x/y.txt", "dir/z.bin", "dir/.hidden"] {
            try Data(file.utf8).write(to: root.appendingPathComponent(file))
        }
        try Data("outside secret".utf8).write(to: outside.appendingPathComponent("secret.txt"))
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("link").path, withDestinationPath: outside.path)
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent("escape.txt").path, withDestinationPath: outside.appendingPathComponent("secret.txt").path)
        return (root, outside)
    }

    @Test("Globs match files, whole directories and ** paths; patterns leaving the checkout are refused; links are not followed")
    func globbing() throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let (root, outside) = try Self.makeTree(in: fixtures)
        let collector = ArtifactCollector(root: root)
        #expect(collector.collect(paths: ["*.txt"]).paths == ["a.txt", "escape.txt"])
        #expect(collector.collect(paths: ["dir/"]).paths == ["dir", "dir/.hidden", "dir/x", "dir/x/y.txt", "dir/z.bin"])
        #expect(collector.collect(paths: ["dir/**/*"]).paths == ["dir/.hidden", "dir/x", "dir/x/y.txt", "dir/z.bin"])
        #expect(collector.collect(paths: ["**/*.txt"]).paths == ["a.txt", "dir/x/y.txt", "escape.txt"])
        #expect(collector.collect(paths: ["dir/"], exclude: ["dir/x"]).paths == ["dir", "dir/.hidden", "dir/z.bin"])
        #expect(collector.collect(paths: ["./b.log", root.path + "/a.txt"]).paths == ["a.txt", "b.log"])
        let refused = collector.collect(paths: ["../outside/secret.txt", outside.path + "/secret.txt", "dir/../../outside"])
        #expect(refused.paths.isEmpty)
        #expect(refused.refused.count == 3)
        // Through a link to a directory outside: nothing is found.
        let throughLink = collector.collect(paths: ["link/secret.txt", "link/**/*"])
        #expect(throughLink.paths.isEmpty)
        #expect(throughLink.matches.map(\.count) == [0, 0])
    }

    @Test("A zipped link stays a link: archiving never copies the file it points to")
    func linksStayLinks() throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let (root, _) = try Self.makeTree(in: fixtures)
        let zip = fixtures.directory.appendingPathComponent("a.zip")
        try ArtifactArchive.create(at: zip, root: root, paths: ["a.txt", "escape.txt"])
        let archive = try Archive(url: zip, accessMode: .read)
        let entry = try #require(archive["escape.txt"])
        #expect(entry.type == .symlink)
        var content = Data()
        _ = try archive.extract(entry) { content.append($0) }
        #expect(!String(decoding: content, as: UTF8.self).contains("outside secret"))
    }

    @Test("Archives round-trip: created from globs, extracted into another checkout")
    func roundTrip() throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let (root, _) = try Self.makeTree(in: fixtures)
        let zip = fixtures.directory.appendingPathComponent("a.zip")
        try ArtifactArchive.create(at: zip, root: root, paths: ArtifactCollector(root: root).collect(paths: ["dir/", "a.txt"]).paths)
        let target = fixtures.directory.appendingPathComponent("target", isDirectory: true)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try Data("old".utf8).write(to: target.appendingPathComponent("a.txt"))
        try ArtifactArchive.extract(zip, into: target)
        #expect(try String(contentsOf: target.appendingPathComponent("dir/x/y.txt"), encoding: .utf8) == "dir/x/y.txt")
        #expect(try String(contentsOf: target.appendingPathComponent("a.txt"), encoding: .utf8) == "a.txt")
    }

    static func hostileZip(at url: URL, entries: [String]) throws {
        let archive = try Archive(url: url, accessMode: .create)
        for path in entries {
            let data = Data("payload of \(path)".utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), provider: { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            })
        }
    }

    @Test("Extraction refuses zip-slip entries and writes nothing from such an archive", arguments: ["../evil.txt", "/tmp/latchkey-evil.txt", "a/../../evil.txt"])
    func zipSlip(hostilePath: String) throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let target = fixtures.directory.appendingPathComponent("target", isDirectory: true)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let zip = fixtures.directory.appendingPathComponent("hostile.zip")
        try Self.hostileZip(at: zip, entries: ["ok.txt", hostilePath])
        #expect(throws: ArtifactArchive.Failure.self) { try ArtifactArchive.extract(zip, into: target) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: fixtures.directory.appendingPathComponent("evil.txt").path))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/latchkey-evil.txt"))
    }

    @Test("Extraction refuses to write through a symbolic link already in the checkout")
    func noWritingThroughLinks() throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let (root, outside) = try Self.makeTree(in: fixtures)
        let zip = fixtures.directory.appendingPathComponent("hostile.zip")
        try Self.hostileZip(at: zip, entries: ["link/planted.txt"])
        #expect(throws: ArtifactArchive.Failure.self) { try ArtifactArchive.extract(zip, into: root) }
        #expect(!FileManager.default.fileExists(atPath: outside.appendingPathComponent("planted.txt").path))
    }

    @Test("A job uploads the artifacts its paths match, and a later job receives them as a dependency")
    func uploadThenDownload() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let producer = JobFixtures.job(
            id: 7, script: ["mkdir -p out/nested", "echo built > out/result.txt", "echo deep > out/nested/deep.txt", "echo skip > other.txt"],
            artifacts: [JobPayload.ArtifactSpec(name: "build", paths: ["out/", "missing/"], when: "on_success", expireIn: "1 week")])
        let produced = await fixtures.executor().run(producer)
        #expect(produced.state == .success)
        let upload = try #require(await fixtures.api.uploads.first)
        #expect(upload.jobID == 7)
        #expect(upload.artifactType == "archive")
        #expect(upload.expireIn == "1 week")
        let trace = await fixtures.api.traceText
        #expect(trace.contains("missing/: no matching files"))
        #expect(trace.contains("201 Created"))

        await fixtures.api.serveArtifacts(upload.data, for: 7)
        let consumer = JobFixtures.job(
            id: 8, script: ["cat out/result.txt out/nested/deep.txt", "test ! -e other.txt"],
            dependencies: [JobPayload.Dependency(id: 7, token: "ignored", name: "build", artifactsFile: .init(filename: "artifacts.zip", size: 1))])
        let consumed = await fixtures.executor().run(consumer)
        #expect(consumed.state == .success)
        #expect(await fixtures.api.downloads.last?.token == consumer.token)
        let consumerTrace = await fixtures.api.traceText
        #expect(consumerTrace.contains("built\ndeep\n"))
    }

    @Test("on_failure artifacts are uploaded only for a failed job")
    func whenOnFailure() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let spec = JobPayload.ArtifactSpec(name: "logs", paths: ["log.txt"], when: "on_failure", expireIn: nil)
        _ = await fixtures.executor().run(JobFixtures.job(script: ["echo x > log.txt"], artifacts: [spec]))
        #expect(await fixtures.api.uploads.isEmpty)
        _ = await fixtures.executor().run(JobFixtures.job(script: ["echo x > log.txt", "false"], artifacts: [spec]))
        #expect(await fixtures.api.uploads.count == 1)
    }

    @Test("A refused upload (413) fails an otherwise successful job")
    func uploadTooLarge() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        await fixtures.api.setUploadStatus(413)
        let outcome = await fixtures.executor().run(
            JobFixtures.job(script: ["echo x > big.bin"], artifacts: [.init(name: "a", paths: ["big.bin"], when: "on_success", expireIn: nil)]))
        #expect(outcome.state == .failed)
        #expect(outcome.failureReason == "script_failure")
        #expect(await fixtures.api.traceText.contains("413 Request Entity Too Large (too large archive)"))
    }

    @Test("A missing dependency archive fails the job as a runner system failure before the script runs")
    func missingDependency() async throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let outcome = await fixtures.executor().run(
            JobFixtures.job(script: ["echo script-ran"], dependencies: [.init(id: 99, token: "t", name: "gone", artifactsFile: .init(filename: "a.zip", size: 1))]))
        #expect(outcome.state == .failed)
        #expect(outcome.failureReason == "runner_system_failure")
        #expect(!(await fixtures.api.traceText).contains("script-ran\n"))
    }

    @Test("a gzip report holds one member per regular file, named by its path; links to files outside are never read")
    func gzipReport() throws {
        let fixtures = try JobFixtures()
        defer { fixtures.cleanUp() }
        let (root, _) = try Self.makeTree(in: fixtures)
        let collector = ArtifactCollector(root: root)
        let archive = fixtures.directory.appendingPathComponent("report.gz")
        try ArtifactArchive.createGzip(at: archive, root: root, paths: collector.collect(paths: ["*.txt", "dir/"]).paths)
        let members = try Gzip.members([UInt8](Data(contentsOf: archive)), limit: 1 << 20)
        #expect(members.map { String(decoding: $0, as: UTF8.self) } == ["a.txt", "dir/.hidden", "dir/x/y.txt", "dir/z.bin"])
        #expect(!members.contains(Array("outside secret".utf8)))
    }
}
