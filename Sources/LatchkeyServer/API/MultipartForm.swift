import Foundation

/// A small in-memory multipart/form-data reader, for API parameters (uploads of files stream elsewhere).
enum MultipartForm {
    struct Part {
        var name: String
        var filename: String?
        var body: Data
    }

    static func boundary(contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    static func parse(_ data: Data, boundary: String) -> [Part] {
        let delimiter = Data(("--" + boundary).utf8)
        var parts: [Part] = []
        var searchStart = data.startIndex
        var sections: [Range<Data.Index>] = []
        var previous: Data.Index?
        while let range = data.range(of: delimiter, in: searchStart..<data.endIndex) {
            if let previous { sections.append(previous..<range.lowerBound) }
            previous = range.upperBound
            searchStart = range.upperBound
        }
        for section in sections {
            var body = data[section]
            // Each section starts with CRLF after the delimiter and ends with CRLF before the next one.
            if body.starts(with: [13, 10]) { body = body.dropFirst(2) }
            if body.suffix(2) == Data([13, 10]) { body = body.dropLast(2) }
            guard let split = body.range(of: Data([13, 10, 13, 10])) else { continue }
            let head = String(decoding: body[body.startIndex..<split.lowerBound], as: UTF8.self)
            var name: String?
            var filename: String?
            for line in head.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("content-disposition") {
                for item in line.split(separator: ";").dropFirst() {
                    let pair = item.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                    guard pair.count == 2 else { continue }
                    let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    if pair[0] == "name" { name = value }
                    if pair[0] == "filename" { filename = value }
                }
            }
            if let name { parts.append(Part(name: name, filename: filename, body: Data(body[split.upperBound...]))) }
        }
        return parts
    }
}
