import CZlib

/// gzip (RFC 1952) with zlib: whole-buffer compress and decompress.
public enum Gzip {
    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { "gzip: \(message)" }
    }

    /// The linked zlib's version, such as "1.2.13".
    public static var zlibVersionString: String { String(cString: zlibVersion()) }

    /// `bytes` as a gzip member. zlib writes mtime 0, so the output is the same on every run.
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard httpkit_deflateInit2(&stream, level, 31) == Z_OK else { throw Failure(message: "deflateInit2 failed") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 32)
        var input = bytes
        let status: Int32 = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw Failure(message: "deflate returned \(status)") }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// Inflates a gzip (or zlib) stream, refusing to produce more than `limit` bytes.
    public static func decompress(_ bytes: [UInt8], limit: Int = 64 << 20) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard httpkit_inflateInit2(&stream, 47) == Z_OK else { throw Failure(message: "inflateInit2 failed") }
        defer { inflateEnd(&stream) }
        var input = bytes
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    output.append(contentsOf: outBuf[0..<(outBuf.count - Int(stream.avail_out))])
                }
            } while status == Z_OK && output.count <= limit && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        guard output.count <= limit else { throw Failure(message: "decoded size exceeds \(limit) bytes") }
        guard status == Z_STREAM_END else {
            throw Failure(message: status == Z_OK || status == Z_BUF_ERROR ? "stream is truncated" : "corrupt data (zlib status \(status))")
        }
        return output
    }
}

/// Incremental gzip: feed pieces, get compressed pieces, for bodies too large to compress in one go.
public final class GzipEncoder {
    private var stream = z_stream()
    private var finished = false
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    public init(level: Int32 = 6) throws(Gzip.Failure) {
        guard httpkit_deflateInit2(&stream, level, 31) == Z_OK else { throw Gzip.Failure(message: "deflateInit2 failed") }
    }

    deinit { deflateEnd(&stream) }

    /// Compresses `input`; with `finish`, also ends the gzip member (trailer with CRC32 and size).
    public func compress(_ input: [UInt8], finish: Bool = false) throws(Gzip.Failure) -> [UInt8] {
        guard !finished else { return [] }
        var output: [UInt8] = []
        var input = input
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            repeat {
                buffer.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    status = deflate(&stream, finish ? Z_FINISH : Z_NO_FLUSH)
                    output.append(contentsOf: outBuf[0..<(outBuf.count - Int(stream.avail_out))])
                }
            } while stream.avail_out == 0 || (finish && status == Z_OK)
        }
        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
            throw Gzip.Failure(message: "deflate returned \(status)")
        }
        if finish { finished = true }
        return output
    }
}
