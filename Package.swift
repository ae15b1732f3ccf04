// swift-tools-version: 6.0
//
// httpkit: build an HTTP/1.1 server from raw POSIX sockets, one milestone at a time.
// Linux only (epoll, accept4, sendfile, /proc, prctl): that is where it is built and tested.
//
// The targets are the layers of the server, from the bottom up:
//   CSystem    a tiny C shim: the bits of <sys/epoll.h>, <signal.h> and fd_set that Swift cannot import
//   CTLS       TLS with OpenSSL, wrapped in C: contexts, sessions, a self-signed certificate
//   CURing     io_uring through liburing: a header of static inline wrappers (the eventloop's --poller io_uring)
//   Sockets    the one thin POSIX layer: socket, bind, accept, read, write, sendfile, the io_uring ring; EINTR retried, errno kept
//   HTTPCore   the protocol core: parser, serializer, MIME types, path resolution, gzip. Never sees a descriptor.
//   Stages     the milestone servers; each one file that composes Sockets and HTTPCore
//   ServerProcess  start a server process, wait for it to listen, stop it (bench, check, tests)
//   httpkit    the command line (swift-argument-parser)
import PackageDescription

// Release builds skip the run-time exclusivity checks (SE-0176) in the two hot modules. Each mutation of a
// class's stored property through `inout` (the event loop's connections, the caches) is checked by a
// call into the runtime: measured with callgrind, about 30 checks and 2,000 instructions per HTTP/1.1
// request. Debug builds, and so `swift test`, keep every check; the compiler's static checks stay in both.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "httpkit",
    products: [
        .executable(name: "httpkit", targets: ["httpkit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CEditLine",
            path: "Sources/CEditLine",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // io_uring (liburing-dev): its helpers are inline functions with atomics and macros, wrapped in shim.h.
        .systemLibrary(
            name: "CURing",
            path: "Sources/CURing",
            pkgConfig: "liburing",
            providers: [.apt(["liburing-dev"])]
        ),
        .target(name: "CSystem", path: "Sources/CSystem"),
        // TLS with OpenSSL (libssl-dev): a small C layer, so OpenSSL's macros and error queue stay in C.
        .target(name: "CTLS", path: "Sources/CTLS", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .target(name: "HTTPCore", dependencies: ["CZlib"], swiftSettings: hotPath),
        .target(name: "Sockets", dependencies: ["CSystem", "CTLS", "CURing"]),
        .target(name: "Stages", dependencies: ["HTTPCore", "Sockets"], swiftSettings: hotPath),
        // Start a server process, wait until it listens, stop it by pid: for bench, check and the tests.
        .target(name: "ServerProcess"),
        .executableTarget(
            name: "httpkit",
            dependencies: [
                "Stages", "HTTPCore", "Sockets", "CEditLine", "ServerProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "HTTPCoreTests", dependencies: ["HTTPCore", "Stages"]),
        .testTarget(name: "HTTPKitTests", dependencies: ["httpkit", "HTTPCore", "Stages", "Sockets"], exclude: ["Golden"]),
        .testTarget(name: "LiveTests", dependencies: ["httpkit", "Sockets", "HTTPCore", "ServerProcess"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
