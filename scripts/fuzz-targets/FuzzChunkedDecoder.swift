// libFuzzer target: the chunked decoder, fed whole and in two pieces at every split point of the
// first 64 bytes; every way must decode the same body or fail.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChunkedDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = RequestLimits(maxHeaderBytes: 1024, maxHeaderCount: 16, maxBodyBytes: 8192)

    func decode(split: Int) -> [UInt8]? {
        var decoder = ChunkedDecoder()
        var buffer: [UInt8] = []
        var start = 0
        var body: [UInt8] = []
        for piece in [bytes[..<split], bytes[split...]] {
            buffer += piece
            do {
                if try decoder.decode(buffer, start: &start, into: &body, limits: limits) { return body }
            } catch {
                return nil
            }
        }
        return decoder.isDone ? body : []
    }

    let reference = decode(split: bytes.count)
    for split in 0..<min(bytes.count, 64) {
        let other = decode(split: split)
        // A split can only delay completion, never change a decoded body or turn an error into one.
        if let reference, let other, !other.isEmpty || reference.isEmpty {
            precondition(other == reference, "split at \(split) decodes a different body")
        }
    }
    return 0
}
