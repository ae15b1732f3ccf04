import ArgumentParser

/// `--port N` for every command that takes one. Parsed by hand so that `--port -1` and `--port 70000`
/// are told the range, instead of "Missing value" (a leading `-` looks like an option to the parser) or a
/// bare "invalid".
enum PortArgument {
    static let range = "0 to 65535 (0 picks a free port)"

    static func parse(_ text: String) throws -> UInt16 {
        guard let value = Int(text) else {
            throw ValidationError("a port is a number, \(range)")
        }
        guard let port = UInt16(exactly: value) else {
            throw ValidationError("a port is \(range)")
        }
        return port
    }
}
