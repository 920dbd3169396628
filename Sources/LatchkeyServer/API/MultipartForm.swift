import Foundation
import LatchkeyCore

/// A multipart/form-data body read in memory, for API parameters (file uploads stream through `MultipartFileReceiver`);
/// both read with the one `MultipartParser`.
enum MultipartForm {
    struct Part {
        var name: String
        var filename: String?
        var body: Data
    }

    static func boundary(contentType: String) -> String? {
        MultipartParser.boundary(contentType: contentType)
    }

    /// The named parts of `data`, in order; a part without a name is skipped, as Rack does.
    static func parse(_ data: Data, boundary: String) throws(MultipartParser.Failure) -> [Part] {
        var parts: [Part] = []
        var current: Part?
        for event in try MultipartParser.events(of: data, boundary: boundary) {
            switch event {
            case .part(let head):
                current = head.name.map { Part(name: $0, filename: head.filename, body: Data()) }
            case .bytes(let bytes):
                current?.body.append(contentsOf: bytes)
            case .partEnd:
                if let part = current { parts.append(part) }
                current = nil
            }
        }
        return parts
    }
}
