import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore

/// Streams a file from disk as a download, with GitLab's headers and Range support; memory does not grow with the file.
enum ArtifactResponse {
    static func file(_ url: URL, filename: String, contentType: String = "application/zip", request: Request, context: some RequestContext) async throws -> Response {
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value ?? 0
        var headers: HTTPFields = [:]
        headers[.contentType] = contentType
        let encoded = filename.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: ".-_"))) ?? filename
        headers[.contentDisposition] = "attachment; filename=\"\(filename.replacingOccurrences(of: "\"", with: ""))\"; filename*=UTF-8''\(encoded)"
        headers[HTTPField.Name("Content-Transfer-Encoding")!] = "binary"
        headers[.acceptRanges] = "bytes"
        if let range = request.headers[.range], let requested = parseRange(range, size: size) {
            headers[.contentRange] = "bytes \(requested.lowerBound)-\(requested.upperBound)/\(size)"
            headers[.contentLength] = String(requested.count)
            let body = try await FileIO().loadFile(path: url.path, range: Int(requested.lowerBound)...Int(requested.upperBound), context: context)
            return Response(status: .partialContent, headers: headers, body: body)
        }
        headers[.contentLength] = String(size)
        let body = try await FileIO().loadFile(path: url.path, context: context)
        return Response(status: .ok, headers: headers, body: body)
    }

    /// One `bytes=a-b`, `bytes=a-` or `bytes=-n` range within the file.
    static func parseRange(_ header: String, size: Int64) -> ClosedRange<Int64>? {
        RangeHeader.range(header, size: size)
    }
}
