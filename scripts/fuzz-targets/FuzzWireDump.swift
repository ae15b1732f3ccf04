// libFuzzer target: the wire-dump analysis must explain any bytes, read either way, without crashing, and
// every range it returns must index the bytes (the renderer in Sources/httpkit slices them unchecked).
// Built from Sources/HTTPCore only, so it fuzzes WireAnalysis; the renderer's own loop is tested in
// Tests/HTTPKitTests/WireDumpRendererTests.swift.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireDump(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for kind in [nil, WireMessage.Kind.request, .response] {
        for method in [nil, "HEAD"] {
            for message in WireAnalysis(bytes, as: kind, requestMethod: method).messages {
                precondition(message.start >= 0 && message.start + message.length <= bytes.count, "message outside the bytes")
                for element in message.elements {
                    precondition(element.range.lowerBound >= 0 && element.range.upperBound <= bytes.count, "element outside the bytes")
                }
            }
        }
    }
    return 0
}
