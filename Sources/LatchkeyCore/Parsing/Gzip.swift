import LatchkeyZlib

/// gzip as gitlab-runner writes `artifact_format=gzip` reports: one member per file, concatenated (RFC 1952).
public enum Gzip {
    /// Why a gzip stream was refused.
    public enum Failure: Error, Equatable, Sendable {
        /// Not gzip, truncated, or a checksum that does not match.
        case malformed
        /// The members hold more than the caller's limit of uncompressed bytes (a decompression bomb stops here).
        case tooLarge
    }

    /// The uncompressed contents of every member, in order; reads at most `limit` uncompressed bytes in all.
    public static func members(_ input: [UInt8], limit: Int) throws(Failure) -> [[UInt8]] {
        guard !input.isEmpty else { throw .malformed }
        var stream = z_stream()
        // 16 + 15: a gzip wrapper around a 32 KiB window; zlib checks the header, the CRC-32 and the length itself.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw .malformed }
        defer { inflateEnd(&stream) }
        var members: [[UInt8]] = []
        var current: [UInt8] = []
        var total = 0
        var output = [UInt8](repeating: 0, count: 16 * 1024)
        let failure: Failure? = input.withUnsafeBufferPointer { inputBuffer -> Failure? in
            guard let base = inputBuffer.baseAddress else { return .malformed }
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = UInt32(inputBuffer.count)
            while true {
                let status = output.withUnsafeMutableBufferPointer { outputBuffer -> Int32 in
                    stream.next_out = outputBuffer.baseAddress
                    stream.avail_out = UInt32(outputBuffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = output.count - Int(stream.avail_out)
                total += produced
                if total > limit { return .tooLarge }
                current += output[0..<produced]
                switch status {
                case Z_STREAM_END:
                    members.append(current)
                    current = []
                    // Another member may follow; anything else after the last one is refused rather than ignored.
                    guard stream.avail_in > 0 else { return nil }
                    guard inflateReset(&stream) == Z_OK else { return .malformed }
                case Z_OK:
                    // All input read, room left for output and still no end: the stream is truncated.
                    if stream.avail_in == 0 && stream.avail_out > 0 { return .malformed }
                default:
                    return .malformed
                }
            }
        }
        if let failure { throw failure }
        return members
    }

    /// One gzip member holding `data`, named `name` in its header as gitlab-runner names each file.
    public static func member(name: String, data: [UInt8]) -> [UInt8] {
        // Header: magic, deflate, FNAME flag, no mtime, no extra flags, OS unknown; then the name, NUL-terminated.
        var result: [UInt8] = [0x1F, 0x8B, 8, 0x08, 0, 0, 0, 0, 0, 255]
        result += name.utf8.filter { $0 != 0 }
        result.append(0)
        result += deflateRaw(data)
        let crc = data.withUnsafeBufferPointer { buffer in UInt32(crc32(0, buffer.baseAddress, UInt32(buffer.count))) }
        for value in [crc, UInt32(truncatingIfNeeded: data.count)] {
            result += [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
        }
        return result
    }

    /// Raw deflate (no zlib or gzip wrapper) of `data`.
    private static func deflateRaw(_ data: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { return [] }
        defer { deflateEnd(&stream) }
        var result: [UInt8] = []
        var output = [UInt8](repeating: 0, count: 16 * 1024)
        var input = data
        input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = UInt32(inputBuffer.count)
            while true {
                let status = output.withUnsafeMutableBufferPointer { outputBuffer -> Int32 in
                    stream.next_out = outputBuffer.baseAddress
                    stream.avail_out = UInt32(outputBuffer.count)
                    return deflate(&stream, Z_FINISH)
                }
                result += output[0..<(output.count - Int(stream.avail_out))]
                if status != Z_OK { break }
            }
        }
        return result
    }
}
