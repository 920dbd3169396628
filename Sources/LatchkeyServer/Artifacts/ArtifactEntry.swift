import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import NIOCore
import NIOPosix
import ZIPFoundation

/// One file read out of an artifacts archive: extracted to disk, then streamed, so neither the archive nor the file is held in memory.
enum ArtifactEntry {
    /// Why no file came out of the archive.
    enum Failure: Error, Equatable {
        case invalidPath
        case notFound
    }

    /// The entry path as GitLab's `Artifacts::Path` accepts it (`ArtifactEntryName.lookupPath`).
    static func validate(_ path: String) throws(Failure) -> String {
        do {
            return try ArtifactEntryName.lookupPath(path)
        } catch {
            throw .invalidPath
        }
    }

    /// Streams the archive's regular-file entry at `path`; the temporary copy is unlinked before the first byte goes out.
    static func response(archive: URL, path: String, temporary: URL) async throws -> Response {
        let path = try validate(path)
        let size: Int64 = try await NIOThreadPool.singleton.runIfActive {
            let zip = try Archive(url: archive, accessMode: .read)
            // Only exact regular-file entries: a directory or link answers 404, and the copy's name is ours, never the entry's.
            guard let entry = zip[path], entry.type == .file else { throw Failure.notFound }
            _ = try zip.extract(entry, to: temporary, skipCRC32: false)
            return Int64(entry.uncompressedSize)
        }
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: temporary)
            try FileManager.default.removeItem(at: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        let filename = (path as NSString).lastPathComponent
        var headers: HTTPFields = [:]
        headers[.contentType] = contentType(for: filename)
        let encoded = filename.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: ".-_"))) ?? filename
        headers[.contentDisposition] = "attachment; filename=\"\(filename.replacingOccurrences(of: "\"", with: ""))\"; filename*=UTF-8''\(encoded)"
        headers[HTTPField.Name("Content-Transfer-Encoding")!] = "binary"
        headers[.contentLength] = String(size)
        let body = ResponseBody(contentLength: Int(size)) { writer in
            defer { try? handle.close() }
            while true {
                let chunk = try await NIOThreadPool.singleton.runIfActive { try handle.read(upToCount: 64 * 1024) ?? Data() }
                if chunk.isEmpty { break }
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// The archive's regular-file entry at `path` as text, read into memory only up to `limit` bytes (`include:artifact`).
    enum TextFailure: Error, Equatable {
        case notFound
        case tooLarge
    }

    static func text(archive: URL, path: String, limit: Int) async throws -> String {
        guard let path = try? validate(path) else { throw TextFailure.notFound }
        let data: Data = try await NIOThreadPool.singleton.runIfActive {
            let zip = try Archive(url: archive, accessMode: .read)
            guard let entry = zip[path], entry.type == .file else { throw TextFailure.notFound }
            guard entry.uncompressedSize <= UInt64(limit) else { throw TextFailure.tooLarge }
            var data = Data()
            // The central directory's size is the writer's claim; the bytes themselves are counted as they come.
            _ = try zip.extract(entry, skipCRC32: false) { chunk in
                data.append(chunk)
                if data.count > limit { throw TextFailure.tooLarge }
            }
            return data
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// A content type from the file's extension (what Workhorse does for artifact entries).
    static func contentType(for filename: String) -> String {
        switch (filename as NSString).pathExtension.lowercased() {
        case "txt", "log", "md": "text/plain; charset=utf-8"
        case "json": "application/json"
        case "html", "htm": "text/html; charset=utf-8"
        case "xml": "application/xml"
        case "zip": "application/zip"
        case "gz", "tgz": "application/gzip"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "svg": "image/svg+xml"
        default: "application/octet-stream"
        }
    }
}
