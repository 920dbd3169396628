import Crypto
import Foundation

/// What GitLab reports about a file beside its bytes (`blob_data` in GitLab's files API), also sent as `X-Gitlab-*` headers.
struct RepositoryFileMetadata: Encodable {
    var fileName: String
    var filePath: String
    var size: Int
    var encoding = "base64"
    var contentSha256: String
    var ref: String
    var blobId: String
    var commitId: String
    var lastCommitId: String
    var executeFilemode: Bool

    /// GitLab's header names: `X-Gitlab-` and each key's words capitalised (`blob_id` → `X-Gitlab-Blob-Id`).
    var headers: [(String, String)] {
        [
            ("X-Gitlab-File-Name", fileName), ("X-Gitlab-File-Path", filePath), ("X-Gitlab-Size", String(size)), ("X-Gitlab-Encoding", encoding),
            ("X-Gitlab-Content-Sha256", contentSha256), ("X-Gitlab-Ref", ref), ("X-Gitlab-Blob-Id", blobId), ("X-Gitlab-Commit-Id", commitId),
            ("X-Gitlab-Last-Commit-Id", lastCommitId), ("X-Gitlab-Execute-Filemode", executeFilemode ? "true" : "false"),
        ]
    }
}

extension RepositoryStore {
    /// The blob's id and mode and the last commit that touched `path` up to `sha`; nil when there is no such file.
    func fileMetadata(projectID: Int64, sha: String, path: String, ref: String, data: Data) async -> RepositoryFileMetadata? {
        guard Git.isSafeRef(sha), !path.isEmpty, !path.contains("\0") else { return nil }
        let repository = self.path(projectID: projectID).path
        // Literal pathspecs: a file named `*` or `:(glob)x` names itself, never a pattern.
        let literal = ["GIT_LITERAL_PATHSPECS": "1"]
        guard let listing = try? await Git.run(["-C", repository, "ls-tree", "-z", sha, "--", path], environment: literal),
            let entry = listing.split(separator: "\0").first, let tab = entry.firstIndex(of: "\t")
        else { return nil }
        let fields = entry[..<tab].split(separator: " ")
        guard fields.count == 3, fields[1] == "blob" else { return nil }
        let last = (try? await Git.run(["-C", repository, "log", "-1", "--format=%H", sha, "--", path], environment: literal))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        return RepositoryFileMetadata(
            fileName: (path as NSString).lastPathComponent, filePath: path, size: data.count, contentSha256: digest, ref: ref, blobId: String(fields[2]),
            commitId: sha, lastCommitId: last?.count == 40 ? last ?? sha : sha, executeFilemode: fields[0] == "100755")
    }
}
