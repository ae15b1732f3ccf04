/// Commands that send a check's request again, for a person to see the failure with their own eyes. One
/// line each, safe to paste into a shell: the request's CR and LF are written as `\r` `\n` escapes for
/// printf (a pasted raw CR LF would send each line without its line end), and `nc -q1` waits a second
/// for the answer after sending.
enum Reproduce {
    /// `printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | nc -q1 127.0.0.1 9000` (openssl s_client over TLS).
    static func raw(_ target: CheckTarget, _ request: String) -> String {
        "printf \(printfQuoted(request)) | " + (target.tls
            ? "openssl s_client -quiet -connect \(target.host):\(target.shownPort ?? target.port)"
            : "nc -q1 \(target.ncAddress)")
    }

    /// `request` as one single-quoted printf format: backslash, %, CR, LF, other control bytes and ' escaped.
    static func printfQuoted(_ request: String) -> String {
        var out = ""
        for byte in request.utf8 {
            switch byte {
            case 0x0d: out += "\\r"
            case 0x0a: out += "\\n"
            case 0x5c: out += "\\\\"
            case 0x25: out += "%%"
            case 0x27: out += "'\\''"
            case 0x20...0x7e: out += String(UnicodeScalar(byte))
            default: out += "\\" + String(byte, radix: 8).leftPadded3()
            }
        }
        return "'" + out + "'"
    }
}

private extension String {
    /// Octal escapes for printf are three digits: \001.
    func leftPadded3() -> String { String(repeating: "0", count: max(0, 3 - count)) + self }
}
