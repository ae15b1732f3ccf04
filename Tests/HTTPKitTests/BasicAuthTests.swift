import HTTPCore
@testable import Stages
import Testing

/// Which paths Basic auth guards: a prefix and everything under it, on the path the router will serve.
@Suite("Basic auth: which paths are guarded")
struct BasicAuthTests {
    let auth = BasicAuth(protecting: ["/admin", "/files/private"], user: "ada", password: "secret")

    func guarded(_ target: String) -> Bool {
        if case .open = auth.decide(HTTPRequest(method: .get, target: target, headers: ["Host": "x"])) { return false }
        return true
    }

    @Test(arguments: [
        ("/admin", true), ("/admin/", true), ("/admin/x/y", true), ("/admin?x=1", true), ("//admin", true),
        ("/%61dmin", true), ("/x/../admin", true), ("/./admin/", true), ("/files/private/a", true),
        ("/administrator", false), ("/adm", false), ("/", false), ("/files/privately", false), ("/files", false),
        ("/x/admin", false), ("/ADMIN", false),
        // A first segment as long as a prefix's is compared octet by octet; the length stops at `?` and `/`;
        // an absolute-form target has no shape to go by and is decided on its path.
        ("/abcde", false), ("/filex/private", false), ("/admin?x=/y", true), ("/files/private?q", true),
        ("http://h/admin/x", true), ("http://h/adminx", false),
        // A URL in the query is not the path (the file handler and the router serve `/x` for these).
        ("/x?u=http://h/admin/a", false), ("/admin?u=http://h/x", true),
    ])
    func paths(_ target: String, _ expected: Bool) {
        #expect(guarded(target) == expected)
    }

    @Test func nothingGuardedWithoutPrefixes() {
        let open = BasicAuth(protecting: [], user: "u", password: "p")
        if case .open = open.decide(HTTPRequest(method: .get, target: "/admin", headers: ["Host": "x"])) {} else {
            Issue.record("no prefixes: every path is open")
        }
    }

    /// Prefixes the CLI refuses but the type takes: an empty one guards every path (it starts every path), one
    /// without a leading `/` none; the shortcut by first-segment length must agree.
    @Test func unusualPrefixesDecideAsTheLongWay() {
        let everything = BasicAuth(protecting: [""], user: "u", password: "p")
        let nothing = BasicAuth(protecting: ["admin"], user: "u", password: "p")
        for target in ["/", "/admin", "/hello.txt", "/a/b?c"] {
            let request = HTTPRequest(method: .get, target: target, headers: ["Host": "x"])
            #expect(everything.guards(request), "\(target)")
            #expect(!nothing.guards(request), "\(target)")
        }
    }

    /// First segments of 63 octets and more share one bit of the length mask: they are told apart on their octets.
    @Test func longFirstSegmentsShareALengthAndAreComparedOnOctets() {
        let long = "/" + String(repeating: "a", count: 70)
        let auth = BasicAuth(protecting: [long], user: "u", password: "p")
        for (target, expected) in [(long, true), (long + "/x", true), ("/" + String(repeating: "a", count: 80), false),
                                   ("/" + String(repeating: "a", count: 63), false), ("/" + String(repeating: "b", count: 70), false)] {
            #expect(auth.guards(HTTPRequest(method: .get, target: target, headers: ["Host": "x"])) == expected, "\(target.count) octets")
        }
    }

    @Test func rightCredentialsPass() {
        let request = HTTPRequest(method: .get, target: "/admin/x",
                                  headers: ["Host": "x", "Authorization": "Basic " + Base64.encode(Array("ada:secret".utf8))])
        if case .allowed = auth.decide(request) {} else { Issue.record("ada:secret is allowed") }
    }
}
