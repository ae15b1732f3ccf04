// libFuzzer target: the wire-dump annotator must explain any bytes, in every mode, without crashing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireDump(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for kind in [WireDump.Kind.detect, .request, .response] {
        _ = WireDump().annotate(bytes, as: kind)
        _ = WireDump(WireDump.Options(density: .compact, ascii: true, requestMethod: "HEAD")).annotate(bytes, as: kind)
    }
    return 0
}
