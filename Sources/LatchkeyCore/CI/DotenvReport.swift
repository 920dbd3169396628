/// `artifacts:reports:dotenv`: the variables a job passes to later jobs, read as GitLab's `Ci::ParseDotenvArtifactService` reads them.
///
/// The file comes from a job's output, so it is hostile input: its size is checked before and while it is decompressed,
/// every line must be `KEY=value`, keys are GitLab's variable keys, and no key may replace a predefined `CI_`/`GITLAB_`
/// variable (GitLab lets those through; a later job's `CI_API_V4_URL` or `CI_JOB_TOKEN` must not come from an earlier job).
public enum DotenvReport {
    /// GitLab's default plan limits: `dotenv_size` (bytes, the file must be smaller) and `dotenv_variables`.
    public static let sizeLimit = 5120
    public static let variableLimit = 150
    /// GitLab's `HasVariable` key length limit.
    public static let keyLengthLimit = 255

    /// Why a dotenv report was refused; `message` is GitLab's wording (the upload answers 400 with it).
    public enum Failure: Error, Equatable, Sendable {
        case tooBig
        case notGzip
        case tooManyVariables
        case invalidFormat
        case blankKey
        case invalidKey
        case keyTooLong
        case predefinedKey(String)

        public var message: String {
            switch self {
            case .tooBig: "Dotenv Artifact Too Big. Maximum Allowable Size: \(DotenvReport.sizeLimit)"
            case .notGzip: "Invalid Format: the dotenv report is not in gzip format"
            case .tooManyVariables: "Dotenv files cannot have more than \(DotenvReport.variableLimit) variables"
            case .invalidFormat: "Invalid Format"
            case .blankKey: "Validation failed: Key can't be blank, Key can contain only letters, digits and '_'."
            case .invalidKey: "Validation failed: Key can contain only letters, digits and '_'."
            case .keyTooLong: "Validation failed: Key is too long (maximum is \(DotenvReport.keyLengthLimit) characters)"
            case .predefinedKey(let key): "Validation failed: Key \(key) is a predefined variable and cannot be set by a dotenv report"
            }
        }
    }

    /// The variables of a report uploaded as gitlab-runner uploads it (`artifact_format=gzip`, one member per file).
    public static func read(gzip bytes: [UInt8]) throws(Failure) -> [CIVariable] {
        // GitLab compares the stored file's size; the uncompressed text is held to the same limit, so 5 KB cannot become 5 MB.
        guard bytes.count < sizeLimit else { throw .tooBig }
        let blobs: [[UInt8]]
        do {
            blobs = try Gzip.members(bytes, limit: sizeLimit - 1)
        } catch .tooLarge {
            throw .tooBig
        } catch {
            throw .notGzip
        }
        return try parse(blobs: blobs)
    }

    /// The variables of the files' texts, in first-appearance order; a key given twice keeps its last value.
    public static func parse(blobs: [[UInt8]]) throws(Failure) -> [CIVariable] {
        guard blobs.reduce(0, { $0 + $1.count }) < sizeLimit else { throw .tooBig }
        var order: [String] = []
        var values: [String: String] = [:]
        for blob in blobs {
            for line in lines(of: text(of: blob)) {
                let (key, value) = try scan(line)
                if values.updateValue(value, forKey: key) == nil { order.append(key) }
            }
        }
        guard order.count <= variableLimit else { throw .tooManyVariables }
        return order.map { CIVariable(key: $0, value: values[$0] ?? "") }
    }

    /// Whether `key` names a variable the server predefines for every job (`CI`, `CI_*`, `GITLAB_*`).
    public static func isPredefined(_ key: String) -> Bool {
        key == "CI" || key.hasPrefix("CI_") || key.hasPrefix("GITLAB_")
    }

    /// The text of one file: UTF-16 with a byte order mark is converted (Windows PowerShell writes it), a UTF-8 BOM dropped,
    /// invalid UTF-8 replaced by U+FFFD, as GitLab's `encode_utf8_with_replacement_character` and `strip_bom`.
    static func text(of blob: [UInt8]) -> String {
        if blob.starts(with: [0xFF, 0xFE]) || blob.starts(with: [0xFE, 0xFF]) {
            let littleEndian = blob[0] == 0xFF
            let body = blob.dropFirst(2)
            var units: [UInt16] = []
            units.reserveCapacity(body.count / 2)
            var index = body.startIndex
            while index + 1 < body.endIndex {
                let first = UInt16(body[index]), second = UInt16(body[index + 1])
                units.append(littleEndian ? first | second << 8 : first << 8 | second)
                index += 2
            }
            return String(decoding: units, as: UTF16.self)
        }
        let body = blob.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(blob.dropFirst(3)) : blob
        return String(decoding: body, as: UTF8.self)
    }

    /// Ruby's `each_line`: split after every `\n`; a final `\n` starts no further line.
    static func lines(of text: String) -> [Substring.UTF8View] {
        var result: [Substring.UTF8View] = []
        let utf8 = text.utf8
        var start = utf8.startIndex
        var index = start
        while index < utf8.endIndex {
            if utf8[index] == UInt8(ascii: "\n") {
                result.append(utf8[start..<index])
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        if start < utf8.endIndex { result.append(utf8[start..<utf8.endIndex]) }
        return result
    }

    /// `line.scan(/^(.*?)=(.*)$/)` with both parts stripped, then the key checked as `Ci::JobVariable` validates it.
    static func scan(_ line: Substring.UTF8View) throws(Failure) -> (String, String) {
        guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else { throw .invalidFormat }
        let key = stripped(line[line.startIndex..<equals])
        let value = stripped(line[line.index(after: equals)...])
        // A NUL cannot reach a process environment; GitLab would store it, the runner could not pass it on.
        guard !value.contains(0) else { throw .invalidFormat }
        guard !key.isEmpty else { throw .blankKey }
        guard key.allSatisfy({ isKeyByte($0) }) else { throw .invalidKey }
        guard key.count <= keyLengthLimit else { throw .keyTooLong }
        let name = String(decoding: key, as: UTF8.self)
        guard !isPredefined(name) else { throw .predefinedKey(name) }
        return (name, String(decoding: value, as: UTF8.self))
    }

    /// Ruby's `strip`: leading and trailing whitespace and NUL.
    private static func stripped(_ bytes: Substring.UTF8View) -> [UInt8] {
        let space: Set<UInt8> = [0, 9, 10, 11, 12, 13, 32]
        var slice = bytes[...]
        while let first = slice.first, space.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, space.contains(last) { slice = slice.dropLast() }
        return Array(slice)
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }
}
