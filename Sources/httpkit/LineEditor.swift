import CEditLine

/// libedit's line editor (readline-compatible API), used by the REPL.
enum LineEditor {
    static var libraryVersion: String {
        guard let version = httpkit_rl_library_version() else { return "unknown" }
        return String(cString: version)
    }
}
