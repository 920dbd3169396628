import Testing

@testable import LatchkeyCore

@Suite("Artifact archive entry names")
struct ArtifactEntryNameTests {
    @Test("a download path is relative, without NUL or . and .. components, and is looked up as written", arguments: ["a.txt", "dir/a.txt", "a//b", "dir/.hidden", "...", "..a", "C:\\x", "%2e%2e/x"])
    func lookup(_ path: String) throws {
        #expect(try ArtifactEntryName.lookupPath(path) == path)
    }

    @Test("absolute, empty, NUL, . and .. download paths are refused", arguments: ["", "/etc/passwd", "../x", "a/../../x", "./a", "a/./b", ".", "..", "a/..", "a\0b"])
    func refusedLookup(_ path: String) {
        #expect(throws: ArtifactEntryName.Failure.invalidPath) { try ArtifactEntryName.lookupPath(path) }
    }

    @Test("an entry to extract becomes components that stay inside the directory")
    func extraction() {
        #expect(ArtifactEntryName.extractionComponents("dir/./a.txt") == ["dir", "a.txt"])
        #expect(ArtifactEntryName.extractionComponents("a//b/") == ["a", "b"])
        #expect(ArtifactEntryName.extractionComponents("a\\..\\b") == ["a\\..\\b"])
    }

    @Test("entries that are absolute, climb or name nothing are refused for extraction", arguments: ["/etc/passwd", "\\x", "../x", "a/../../x", "a/..", "", ".", "./", "//", "a\0b"])
    func refusedExtraction(_ path: String) {
        #expect(ArtifactEntryName.extractionComponents(path) == nil)
    }
}
