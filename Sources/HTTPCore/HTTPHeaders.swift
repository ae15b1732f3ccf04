/// One header field as it arrived: the name keeps its case, lookups ignore it.
public struct HeaderField: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The header section of a message: ordered, duplicates kept, looked up case-insensitively (RFC 9110 §5.1).
public struct HTTPHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [HeaderField] = []

    /// The HTTP/1.1 field lines of `fields` (`Name: value␍␊` each), made once by `prepareWire()` for a response
    /// that is sent many times (a cached file): the serializer then copies them in one piece instead of
    /// appending two strings per field. `add` keeps them up to date; `set` and `remove` drop them. Fields the
    /// serializer writes itself (framing, Date, Server) are left out, as it leaves them out.
    public private(set) var wire: [UInt8]?

    public init() {}

    public init(_ fields: [HeaderField]) { self.fields = fields }

    public init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { HeaderField($0.0, $0.1) }
    }

    /// Which `wire` buffer these headers share, if they have one: headers with the same identity are copies
    /// of one value (every change to the fields makes new lines or drops them), so a result derived from one
    /// holds for all, while the buffer is alive. nil without ready-made lines.
    public var wireIdentity: Int? {
        guard let wire, !wire.isEmpty else { return nil }
        return wire.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
    }

    /// Makes `wire` from the fields as they are now.
    public mutating func prepareWire() {
        var lines: [UInt8] = []
        for field in fields where !ResponseSerializer.isFramingHeader(field.name) { Self.appendLine(field, to: &lines) }
        wire = lines
    }

    static func appendLine(_ field: HeaderField, to lines: inout [UInt8]) {
        lines.appendUTF8(field.name)
        lines.append(ASCII.colon)
        lines.append(ASCII.space)
        lines.appendUTF8(field.value)
        lines.append(ASCII.cr)
        lines.append(ASCII.lf)
    }

    // Equal when the fields are: `wire` is only a copy of them in another form.
    public static func == (a: HTTPHeaders, b: HTTPHeaders) -> Bool { a.fields == b.fields }
    public func hash(into hasher: inout Hasher) { hasher.combine(fields) }

    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[HeaderField]> { fields.makeIterator() }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? {
        // Asked several times per request by the middleware, mostly for a name that is absent: an index loop
        // borrows each field (`first(where:)` copied every field it passed), and the lengths are compared
        // before any byte.
        let length = name.utf8.count
        for index in fields.indices where fields[index].name.utf8.count == length
            && ASCII.caseInsensitiveEquals(fields[index].name, name) {
            return fields[index].value
        }
        return nil
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        var found: [String] = []
        let length = name.utf8.count // compared before any octet, as in the subscript
        for index in fields.indices where fields[index].name.utf8.count == length
            && ASCII.caseInsensitiveEquals(fields[index].name, name) {
            found.append(fields[index].value)
        }
        return found
    }

    /// The comma-separated list elements of every `name` field, trimmed (RFC 9110 §5.6.1).
    public func listElements(_ name: String) -> [String] {
        values(name).flatMap { $0.split(separator: ",") }
            .map { $0.trimmingASCIIWhitespace() }
            .filter { !$0.isEmpty }
    }

    /// Whether the list header `name` holds `token` (case-insensitive), as in `Connection: close`.
    public func contains(_ name: String, token: String) -> Bool {
        // Asked for every request (`Connection: close`?): compared in place on the value's bytes, element by
        // element, no copies.
        let length = name.utf8.count
        for index in fields.indices where fields[index].name.utf8.count == length
            && ASCII.caseInsensitiveEquals(fields[index].name, name) {
            var value = fields[index].value, token = token
            let found = value.withUTF8 { bytes in
                token.withUTF8 { wanted in
                    var start = 0
                    while start <= bytes.count {
                        var end = start
                        while end < bytes.count && bytes[end] != ASCII.comma { end += 1 }
                        var first = start, last = end
                        while first < last && ASCII.isWhitespace(bytes[first]) { first += 1 }
                        while last > first && ASCII.isWhitespace(bytes[last - 1]) { last -= 1 }
                        if last - first == wanted.count,
                           (0..<wanted.count).allSatisfy({ ASCII.lowercased(bytes[first + $0]) == ASCII.lowercased(wanted[$0]) }) {
                            return true
                        }
                        start = end + 1
                    }
                    return false
                }
            }
            if found { return true }
        }
        return false
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// Room for `count` fields, so that adding them one by one allocates once instead of at 1, 2, 4, 8.
    public mutating func reserveCapacity(_ count: Int) { fields.reserveCapacity(count) }

    /// No fields, and room kept for as many as there were: the storage itself is kept when no one else holds
    /// it (the parser's next request, once the last one is gone), and new room is made when someone does.
    public mutating func removeAll(keepingCapacity: Bool) {
        fields.removeAll(keepingCapacity: keepingCapacity)
        wire = nil
    }

    public mutating func add(_ name: String, _ value: String) {
        add(HeaderField(name, value))
    }

    /// The field is taken, not copied (`consuming`): the parser hands over the Strings it just made, and a
    /// borrowed field cost a retain of each String going in and a release of each after (callgrind: ~70
    /// instructions a field).
    public mutating func add(_ field: consuming HeaderField) {
        if let lines = wire {
            // A cached response's lines are shared with the cache (gzip adds Vary to every response it sees):
            // the copy is made once, at its final size, instead of copied and then grown while appending.
            wire = nil
            if !ResponseSerializer.isFramingHeader(field.name) {
                var grown = lines
                grown.reserveCapacity(lines.count + field.name.utf8.count + field.value.utf8.count + 4)
                Self.appendLine(field, to: &grown)
                wire = grown
            }
        }
        fields.append(field)
    }

    /// Replaces every `name` field with one holding `value`.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { ASCII.caseInsensitiveEquals($0.name, name) }
        wire = nil
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs (HTTP's OWS), not Unicode whitespace.
    public func trimmingASCIIWhitespace() -> String {
        let bytes = Array(utf8)
        var start = 0, end = bytes.count
        while start < end, ASCII.isWhitespace(bytes[start]) { start += 1 }
        while end > start, ASCII.isWhitespace(bytes[end - 1]) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
