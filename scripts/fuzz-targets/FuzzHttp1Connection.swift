// libFuzzer target: the HTTP/1.1 connection machine. Compiled by scripts/fuzz with Sources/HTTPCore.
// The first byte picks a policy (keep-alive or not, streamed bodies or not, a request cap) and a split
// seed; the rest is the bytes a client sent. Besides "never crash", it checks the machine's promise:
// the same actions whichever way TCP splits the bytes — except the interim 100 Continue, which a
// body that arrived with its head never needs — and nothing is handed out after the connection closes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP1Connection(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let control = data[0]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let limits = RequestLimits(maxRequestLineBytes: 512, maxHeaderBytes: 2048, maxHeaderCount: 32, maxBodyBytes: 4096)
    let policy = HTTP1Connection.Policy(keepAlive: control & 1 == 0, maxRequests: Int(control >> 5),
                                        streamsBodies: control & 2 != 0, limits: limits)

    func run(_ pieces: [ArraySlice<UInt8>]) -> [String] {
        var machine = HTTP1Connection(policy: policy)
        var log: [String] = []
        var closed = false
        func record(_ actions: [HTTP1Connection.Action]) {
            for action in actions {
                switch action {
                case .write(let bytes): log.append("write \(bytes.count) \(bytes.prefix(12))")
                case .switchProtocols:
                    log.append("switch") // what arrived after it depends on the split, the switch does not
                    closed = true
                case .close, .lingeringClose:
                    log.append("\(action)")
                    closed = true
                default: log.append("\(action)")
                }
            }
        }
        for piece in pieces {
            machine.receive(piece)
            while let action = machine.nextAction() {
                precondition(!closed, "an action after the connection ended")
                switch action {
                case .request(let request):
                    log.append("request \(request.method) \(request.target) \(request.body.count)")
                    let status = HTTPStatus(code: request.target.hasSuffix("ws") ? 101 : 200)
                    record(machine.respond(HTTPResponse(status: status, body: .bytes(request.body)), to: request, date: "D"))
                case .head(let head):
                    log.append("head \(head.method) \(head.target)")
                case .body(let part):
                    log.append("body \(part.count)") // piece sizes follow the split: compared as a total below
                case .bodyEnd(let head):
                    log.append("end")
                    record(machine.respond(HTTPResponse(status: .ok), to: head, date: "D"))
                case .rejected(let error):
                    log.append("rejected \(error.status.code)")
                    record(machine.respond(.error(error), to: nil, date: "D"))
                case .write(let bytes):
                    if bytes != Array("HTTP/1.1 100 Continue\r\n\r\n".utf8) { log.append("write \(bytes.count)") }
                default:
                    record([action])
                }
            }
        }
        // Body pieces depend on the split; their total does not.
        var merged: [String] = []
        var bodyTotal = 0
        for line in log {
            if line.hasPrefix("body ") { bodyTotal += Int(line.dropFirst(5))!; continue }
            if bodyTotal > 0 { merged.append("body \(bodyTotal)"); bodyTotal = 0 }
            merged.append(line)
        }
        if bodyTotal > 0 { merged.append("body \(bodyTotal)") }
        return merged
    }

    let whole = run([bytes[...]])
    let byteByByte = run(bytes.indices.map { bytes[$0...$0] })
    precondition(whole == byteByByte, "whole and byte-by-byte feedings disagree")
    var seed = UInt64(control) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(bytes.count)
    var pieces: [ArraySlice<UInt8>] = []
    var start = 0
    while start < bytes.count {
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        let length = Int(seed >> 58) + 1
        pieces.append(bytes[start..<min(start + length, bytes.count)])
        start += length
    }
    precondition(run(pieces) == whole, "a random split disagrees with the whole feeding")
    return 0
}
