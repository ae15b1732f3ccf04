// libFuzzer target: the request parser. Compiled by scripts/fuzz together with Sources/HTTPCore.
// Besides "never crash", it checks a property: the same bytes fed whole, one byte at a time, and
// through the streaming events must give the same requests and the same error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = RequestLimits(maxRequestLineBytes: 512, maxHeaderBytes: 2048, maxHeaderCount: 32, maxBodyBytes: 4096)

    func parse(_ pieces: [ArraySlice<UInt8>]) -> ([HTTPRequest], Int?) {
        var parser = RequestParser(limits: limits)
        var requests: [HTTPRequest] = []
        for piece in pieces {
            parser.append(piece)
            do {
                while let request = try parser.next() { requests.append(request) }
            } catch {
                return (requests, error.status.code)
            }
        }
        return (requests, nil)
    }

    let whole = parse([bytes[...]])
    let byteByByte = parse(bytes.indices.map { bytes[$0...$0] })
    precondition(whole.0 == byteByByte.0 && whole.1 == byteByByte.1, "whole and byte-by-byte parses disagree")

    // Streaming events, reassembled, give the same requests.
    var parser = RequestParser(limits: limits)
    parser.streamsBodies = true
    parser.append(bytes)
    var streamed: [HTTPRequest] = []
    var current: HTTPRequest?
    do {
        while let event = try parser.nextEvent() {
            switch event {
            case .request(let request): streamed.append(request)
            case .head(let head): current = head
            case .bodyPart(let part): current?.body += part
            case .end: if let done = current { streamed.append(done) }; current = nil
            }
        }
    } catch {}
    precondition(streamed == whole.0, "streamed and collected bodies disagree")
    return 0
}
