/// A request's header block becoming an `HTTPRequest` (RFC 9113 §8.3.1, §8.2), one field at a time as the
/// HPACK decoder lends them (`HPACKDecoder.decode(_:each:)`): each field is checked on its octets where it
/// lies — in a table entry, or in the decoder's buffer — and only what the request keeps becomes a `String`.
///
///     var head = HTTP2RequestHead(streamID: streamID)
///     head.reuse(&previousFields) // room for the fields: the last request's array, or a new one for 8
///     try decoder.decode(block) { name, value, field in head.add(name: name, value: value, wellFormed: field.wellFormed) }
///     let (request, expectedLength) = try head.request(shapes: &strings)
///
/// A malformed field is remembered, not thrown: the decoder must read the whole block whatever it holds, or
/// its dynamic table would fall out of step with the client's (the table is the connection's, RFC 7541 §4.3),
/// and the connection decides what the stream's state makes of it first. `request(shapes:)` throws it: a stream
/// error PROTOCOL_ERROR (§8.1.1), and the connection lives on.
struct HTTP2RequestHead {
    let streamID: UInt32
    /// The first malformation found; the fields after it are not looked at (except for `pseudoHeaderSeen`).
    private(set) var malformation: HTTP2Error?
    /// A field whose name starts with `:` was seen: what trailers must not hold (§8.1).
    private(set) var pseudoHeaderSeen = false

    // The four request pseudo-headers (§8.3.1), each at most once.
    private var method: HTTPMethod?
    private var schemeSeen = false // only its presence matters here
    private var authority: String?
    private var path: String?

    /// The strings the previous request on this connection made, lent by the connection (`recycle`).
    var strings = RepeatedStrings()
    /// The regular fields so far. Its storage may be the previous request's (`reuse(_:)`).
    private var regular: [HeaderField] = []
    private var cookies: [String] = []
    private var regularSeen = false, hostSeen = false
    private var contentLength: String? // the first one, as `HTTPHeaders` would find it

    init(streamID: UInt32) {
        self.streamID = streamID
    }

    /// Takes `fields` (the previous request's array, which the connection kept) for this request's fields and
    /// leaves an empty one there: emptied, its storage is written again when no one else holds it any more
    /// (the handler has let that request go), so a request allocates no array. Otherwise room for 8 is made.
    mutating func reuse(_ fields: inout [HeaderField]) {
        swap(&regular, &fields)
        regular.removeAll(keepingCapacity: true)
        if regular.capacity < 8 { regular.reserveCapacity(8) } // one allocation for a request's fields, and Host
    }

    /// The String of octets the request keeps: the previous request's, when it had the same octets here.
    private mutating func string(_ octets: Span<UInt8>) -> String { strings.string(octets) }

    /// Looks at the next field of the block. `wellFormed`: the decoder knows the field keeps §8.2.1's rules
    /// (a static table entry, or a dynamic one checked when it was added), so its octets are not looked at again.
    mutating func add(name: Span<UInt8>, value: Span<UInt8>, wellFormed: Bool = false) {
        let pseudo = name.count > 0 && name[0] == UInt8(ascii: ":")
        if pseudo { pseudoHeaderSeen = true }
        guard malformation == nil else { return }
        do {
            if !wellFormed { try check(name: name, value: value) }
            if pseudo { try addPseudoHeader(name: name, value: value) } else { try addRegular(name: name, value: value) }
        } catch {
            malformation = error
        }
    }

    private func malformed(_ reason: String) -> HTTP2Error { .stream(streamID, .protocolError, reason) }

    /// §8.2.1's rules for every field, pseudo-header or not, on octets. The fast test of each (`validName`,
    /// `validValue`) looks at every octet without a branch; the loop that finds which octet is wrong, for the
    /// message, runs only when one is.
    private func check(name: Span<UInt8>, value: Span<UInt8>) throws(HTTP2Error) {
        guard name.count > 0 else { throw malformed("an empty field name") }
        if !HTTP2FieldRules.validName(name) {
            for index in name.indices where HTTP2FieldRules.forbiddenInName(name[index]) {
                throw malformed("the field name \"\(String(copying: name))\" contains 0x\(String(name[index], radix: 16)) (names are lowercase in HTTP/2)")
            }
        }
        if !HTTP2FieldRules.validValue(value) {
            throw malformed("the value of \(String(copying: name)) contains NUL, CR or LF (§8.2.1)")
        }
    }

    /// Told apart by their octets: a pseudo-header's name becomes a String only in an error message.
    private mutating func addPseudoHeader(name: Span<UInt8>, value: Span<UInt8>) throws(HTTP2Error) {
        guard !regularSeen else { throw malformed("the pseudo-header \(String(copying: name)) after a regular field (§8.3)") }
        // By length first: each name is then compared with one candidate at most.
        if name.count == 7 && Self.methodName.elementsEqual(name) {
            guard method == nil else { throw malformed(":method twice (§8.3.1)") }
            method = method(value)
        } else if name.count == 7 && Self.schemeName.elementsEqual(name) {
            guard !schemeSeen else { throw malformed(":scheme twice (§8.3.1)") }
            schemeSeen = true
        } else if name.count == 10 && Self.authorityName.elementsEqual(name) {
            guard authority == nil else { throw malformed(":authority twice (§8.3.1)") }
            authority = string(value)
        } else if name.count == 5 && Self.pathName.elementsEqual(name) {
            guard path == nil else { throw malformed(":path twice (§8.3.1)") }
            path = string(value)
        } else {
            throw malformed("\(String(copying: name)) is not a request pseudo-header (§8.3.1)")
        }
    }

    /// Told apart by their octets as well (the name is lowercase, checked first): only what is kept becomes
    /// a String.
    private mutating func addRegular(name: Span<UInt8>, value: Span<UInt8>) throws(HTTP2Error) {
        regularSeen = true
        if HTTP2Connection.isConnectionSpecific(name) {
            throw malformed("the connection-specific field \(String(copying: name)) (§8.2.2)")
        }
        if Self.teName.elementsEqual(name) && !Self.trailers.elementsEqual(value) {
            throw malformed("te: \(String(copying: value)); only \"trailers\" is allowed (§8.2.2)")
        }
        if Self.cookieName.elementsEqual(name) {
            cookies.append(string(value))
            return
        }
        let value = string(value)
        if Self.hostName.elementsEqual(name) { hostSeen = true }
        if Self.contentLengthName.elementsEqual(name) && contentLength == nil { contentLength = value }
        regular.append(HeaderField(string(name), value))
    }

    /// The request, once the whole block has been added; the malformation if there was one, or what the block
    /// as a whole lacks.
    /// `shapes`: the connection's strings, which remember the last target's shape (`RepeatedStrings.shape`).
    /// The fields, path and authority are moved out of the head (`take()`, `swap`), not copied: the head is
    /// spent. (Copied, they were retained here and released with the head: ~40 instructions a request.)
    mutating func request(shapes: inout RepeatedStrings) throws(HTTP2Error) -> (HTTPRequest, Int?) {
        if let malformation { throw malformation }
        var fields: [HeaderField] = []
        swap(&fields, &regular)
        // §8.2.3: cookie crumbs are joined back into one field for an HTTP/1.1 application.
        if !cookies.isEmpty { fields.append(HeaderField("cookie", cookies.joined(separator: "; "))) }
        guard let method else { throw malformed("no :method (§8.3.1)") }
        let authority = self.authority.take()
        let target: String
        if method == .connect {
            // §8.5: CONNECT names only the authority.
            guard !schemeSeen, path == nil, let authority else {
                throw malformed("CONNECT needs :authority and no :scheme or :path (§8.5)")
            }
            target = authority
        } else {
            guard schemeSeen else { throw malformed("no :scheme (§8.3.1)") }
            guard let path = path.take(), !path.isEmpty else { throw malformed("no :path, or an empty one (§8.3.1)") }
            target = path
        }
        // §8.3.1: :authority stands for Host; an HTTP/1.1 application finds it under Host.
        if let authority {
            if hostSeen { fields.removeAll { $0.name == "host" } } // lowercase: checked above
            fields.append(HeaderField("host", authority))
        }
        var expectedLength: Int?
        if let length = contentLength {
            guard let value = Int(length), value >= 0 else { throw malformed("content-length: \(length) is not a number") }
            expectedLength = value
        }
        let shape = shapes.shape(of: target) { TargetShape(target) }
        let request = HTTPRequest(method: method, target: target, shape: shape, version: .http2, headers: HTTPHeaders(fields))
        return (request, expectedLength)
    }

    /// The method a `:method` names: the common ones share their constant, no String is made for them.
    private mutating func method(_ octets: Span<UInt8>) -> HTTPMethod {
        if Self.getMethod.elementsEqual(octets) { return .get }
        if Self.headMethod.elementsEqual(octets) { return .head }
        if Self.postMethod.elementsEqual(octets) { return .post }
        return HTTPMethod(string(octets))
    }

    private static let methodName = Array(":method".utf8)
    private static let schemeName = Array(":scheme".utf8)
    private static let authorityName = Array(":authority".utf8)
    private static let pathName = Array(":path".utf8)
    private static let teName = Array("te".utf8)
    private static let trailers = Array("trailers".utf8)
    private static let cookieName = Array("cookie".utf8)
    private static let hostName = Array("host".utf8)
    private static let contentLengthName = Array("content-length".utf8)
    private static let getMethod = Array("GET".utf8)
    private static let headMethod = Array("HEAD".utf8)
    private static let postMethod = Array("POST".utf8)
}
