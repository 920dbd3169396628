/// The `Range` header of a download: one `bytes=a-b`, `bytes=a-` or `bytes=-n` range (RFC 9110 §14.1).
///
/// A header we do not honour (several ranges, another unit, a range outside the file, anything malformed) is ignored
/// and the whole file is sent, which RFC 9110 allows; bounds are ASCII digits only and never overflow `Int64`.
public enum RangeHeader {
    /// Longest header we look at; one range is at most `bytes=` + 2 × 19 digits + `-`.
    static let maximumLength = 128

    /// The bytes of a file of `size` bytes that `header` asks for, or nil to send the whole file.
    public static func range(_ header: String, size: Int64) -> ClosedRange<Int64>? {
        guard size > 0, header.utf8.count <= maximumLength, header.hasPrefix("bytes=") else { return nil }
        let spec = header.utf8.dropFirst(6)
        guard let dash = spec.firstIndex(of: UInt8(ascii: "-")) else { return nil }
        let first = spec[..<dash]
        let second = spec[spec.index(after: dash)...]
        if first.isEmpty {
            guard let suffix = decimal(second), suffix > 0 else { return nil }
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = decimal(first), start < size else { return nil }
        let end: Int64
        if second.isEmpty {
            end = size - 1
        } else {
            guard let last = decimal(second) else { return nil }
            end = min(last, size - 1)
        }
        return end >= start ? start...end : nil
    }

    /// A non-negative decimal of ASCII digits only, or nil (also when it overflows).
    static func decimal(_ bytes: Substring.UTF8View.SubSequence) -> Int64? {
        guard !bytes.isEmpty, bytes.count <= 19 else { return nil }
        var value: Int64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }
}
