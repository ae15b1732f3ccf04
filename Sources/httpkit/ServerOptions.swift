import ArgumentParser
import HTTPCore
import Sockets
import Stages
import Glibc

extension StageName: ExpressibleByArgument {}

/// The options every server stage takes.
struct ServerOptions: ParsableArguments {
    @Option(help: "The address to listen on (127.0.0.1 for this machine only, 0.0.0.0 for every interface).")
    var host = "127.0.0.1"

    // .unconditional: `--port -1` is a (wrong) port, not an unknown option -1.
    @Option(parsing: .unconditional, help: "The TCP port, 0 to 65535; 0 picks a free one (the startup line says which).",
            transform: PortArgument.parse)
    var port: UInt16 = 8080

    @Option(help: ArgumentHelp("The folder to serve (default: the bundled www/).", valueName: "dir"))
    var root: String?

    @Option(help: ArgumentHelp("Seconds a client may take to send its request head before a 408.", valueName: "seconds"))
    var headerTimeout: Double = 10

    @Option(help: ArgumentHelp("Largest request body accepted, in bytes (413 beyond it).", valueName: "bytes"))
    var maxBody: Int = RequestLimits().maxBodyBytes

    @Option(help: ArgumentHelp("Seconds clients may reuse a static file without asking again (Cache-Control: max-age), or off for no Cache-Control.", valueName: "seconds|off"))
    var cacheMaxAge = "60"

    func validate() throws {
        guard headerTimeout > 0 else { throw ValidationError("--header-timeout must be more than 0 seconds") }
        guard maxBody >= 0 else { throw ValidationError("--max-body must be 0 or more bytes") }
        guard cacheMaxAge == "off" || (Int(cacheMaxAge).map { $0 >= 0 } ?? false) else {
            throw ValidationError("--cache-max-age \(cacheMaxAge): give 0 or more seconds, or off for no Cache-Control")
        }
    }

    /// The configuration for `stage`, with the document root checked if the stage serves files.
    func configuration(for stage: StageName) throws -> ServerConfiguration {
        var limits = RequestLimits()
        limits.maxBodyBytes = maxBody
        var configuration = ServerConfiguration(host: host, port: port, limits: limits, headerTimeout: headerTimeout)
        configuration.cacheMaxAge = Int(cacheMaxAge)
        if stage.info.servesFiles {
            configuration.root = try documentRoot()
        }
        return configuration
    }

    func documentRoot() throws -> DocumentRoot {
        if let root {
            do {
                return try DocumentRoot(root, fileSystem: SystemFileSystem())
            } catch {
                throw CLIError(message: "--root \(root): not a readable directory. Point --root at a folder of files to serve, or leave it out to serve the bundled www/.")
            }
        }
        guard let bundled = BundledSite.locate(), let documentRoot = try? DocumentRoot(bundled, fileSystem: SystemFileSystem()) else {
            throw CLIError(message: "could not find the bundled www/ folder next to the httpkit binary or in the current directory. Pass --root DIR, or set HTTPKIT_WWW.")
        }
        return documentRoot
    }
}

/// Finds the `www/` that ships with httpkit: under `swift run` in the repository, from a built binary in
/// `.build/…/debug/`, from an installed `bin/` with `share/httpkit/www`, or from `HTTPKIT_WWW`.
enum BundledSite {
    static func locate() -> String? {
        if let override = getenv("HTTPKIT_WWW") {
            return String(cString: override)
        }
        return locate(folder: "www", marker: "index.html")
    }

    /// A folder that ships with httpkit (`www`, `lessons`), holding `marker`.
    static func locate(folder: String, marker: String) -> String? {
        var starts: [String] = []
        if let executable = executablePath() { starts.append(parent(executable)) }
        if let cwd = getcwd(nil, 0) {
            starts.append(String(cString: cwd))
            free(cwd)
        }
        for start in starts {
            var directory = start
            for _ in 0..<8 {
                for candidate in [directory + "/" + folder, directory + "/share/httpkit/" + folder]
                where access(candidate + "/" + marker, R_OK) == 0 {
                    return candidate
                }
                let up = parent(directory)
                if up == directory { break }
                directory = up
            }
        }
        return nil
    }

    static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return CommandLine.arguments.first }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
