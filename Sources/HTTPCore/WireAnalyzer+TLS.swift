/// TLS records in the wire analysis (RFC 8446 §5.1 for TLS 1.3, RFC 5246 §6.2 for TLS 1.2). A capture
/// that starts with a record header (content type 20–23, version 0x0301–0x0304) is taken apart record by
/// record, one element per field:
///
///     16              record: handshake (22)
///     03 01           legacy version 0x0301 (TLS 1.0; ignored in TLS 1.3)
///     01 48           length 328
///     01 00 01 44     ClientHello, 324 bytes
///     03 03           legacy version 0x0303 (TLS 1.2)
///     …               random, session id, cipher suites by name, extensions (server_name, ALPN,
///                     supported_versions, key_share, signature_algorithms, supported_groups …)
///
/// What is in clear is decoded: ClientHello and ServerHello field by field (a HelloRetryRequest and the
/// downgrade sentinels noted), alerts by level and description, TLS 1.2's other handshake messages by name.
/// What is encrypted is only counted: application_data records (in TLS 1.3, the rest of the handshake too:
/// EncryptedExtensions, Certificate, CertificateVerify, Finished), and anything after a TLS 1.2
/// ChangeCipherSpec. Warnings: a record over 2^14 + 256 bytes (§5.2), an unknown content type, a record cut
/// short. GREASE values (RFC 8701), which clients send to keep servers tolerant, are marked as such.

/// What a run of TLS records said: who sent them, what the hellos offered and chose, what was hidden.
public struct WireTLS: Sendable {
    /// Known from the first hello: a ClientHello comes from the client, a ServerHello from the server.
    public var sender: String?
    public var records = 0
    /// The handshake messages seen in clear, in order ("ClientHello", "ServerHello", "Certificate" …).
    public var handshakeMessages: [String] = []
    /// ClientHello: the SNI host name, the ALPN protocols, the versions offered (supported_versions).
    public var serverName: String?
    public var alpn: [String] = []
    public var offeredVersions: [String] = []
    public var offeredSuites = 0
    /// ServerHello: the version and the cipher suite the server chose.
    public var version: String?
    public var cipherSuite: String?
    /// The key-share groups (offered by a client, chosen by a server).
    public var keyShareGroups: [String] = []
    public var helloRetryRequest = false
    public var encryptedRecords = 0
    public var encryptedBytes = 0
    /// Alerts in clear: "fatal handshake_failure".
    public var alerts: [String] = []
}

extension WireAnalyzer {
    /// Whether `offset` starts a TLS record header: a content type from 20 to 23, version 3.1 to 3.4.
    static func looksLikeTLS(_ bytes: [UInt8], at offset: Int) -> Bool {
        offset + 3 <= bytes.count && (20...23).contains(bytes[offset]) && bytes[offset + 1] == 3 && (1...4).contains(bytes[offset + 2])
    }

    /// The record-layer limit on a record's fragment: 2^14 bytes of plaintext plus 256 of expansion (§5.2).
    static let tlsMaxRecord = (1 << 14) + 256

    /// What a sequence of records has shown so far, for notes that depend on it.
    private struct TLSState {
        var summary = WireTLS()
        /// A ServerHello chose TLS 1.3: everything after it is encrypted.
        var tls13 = false
        /// A ChangeCipherSpec was seen: in TLS 1.2 the sender's next records are encrypted.
        var afterChangeCipherSpec = false
        /// Bytes of a handshake message still to come in the next record (a message split across records).
        var pendingFragment = 0
        var pendingName = ""
    }

    /// Every record from `start` to the end of the bytes, as one `.tls` message.
    func analyzeTLS(from start: Int) -> WireMessage {
        var state = TLSState()
        var elements: [WireElement] = []
        var offset = start
        while offset < bytes.count && state.summary.records < 10_000 {
            state.summary.records += 1
            let type = bytes[offset]
            let typeName = Self.tlsContentTypes[type]
            var typeElement = WireElement(range: offset..<(offset + 1), note: "record: \(typeName ?? "unknown content type") (\(type))", role: .startLine)
            if typeName == nil {
                typeElement.warnings.append("unknown content type \(type): not a TLS record, or the stream lost its framing (a receiver answers unexpected_message, §5)")
            }
            elements.append(typeElement)
            guard offset + 5 <= bytes.count else {
                if offset + 1 < bytes.count { elements.append(WireElement(range: (offset + 1)..<bytes.count, note: "record header?", role: .header)) }
                elements[elements.count - 1].warnings.append("record cut short: a header takes 5 bytes, got \(bytes.count - offset)")
                offset = bytes.count
                break
            }
            let version = u16(offset + 1)
            var versionNote = "legacy version \(Self.hex4(version)) (\(Self.tlsVersionName(version))"
            if version == 0x0301 && type == 22 { versionNote += "; ignored in TLS 1.3" }
            elements.append(WireElement(range: (offset + 1)..<(offset + 3), note: versionNote + ")", role: .header))
            let length = u16(offset + 3)
            var lengthElement = WireElement(range: (offset + 3)..<(offset + 5), note: "length \(length)", role: .header)
            if length > Self.tlsMaxRecord {
                lengthElement.warnings.append("a record of \(length) bytes: over 2^14 + 256 = \(Self.tlsMaxRecord), the receiver answers record_overflow (§5.2)")
            } else if length > 1 << 14 && type != 23 && !state.afterChangeCipherSpec {
                lengthElement.warnings.append("a plaintext record of \(length) bytes: over 2^14 = 16384 (§5.1)")
            }
            if length == 0 && type != 23 { lengthElement.warnings.append("an empty \(typeName ?? "") record (only application_data may be empty, §5.1)") }
            elements.append(lengthElement)

            let bodyStart = offset + 5
            let available = min(length, bytes.count - bodyStart)
            let body = bodyStart..<(bodyStart + available)
            guard typeName != nil else {
                // Without a known type the length cannot be trusted either: show the rest as it is and stop.
                if offset + 5 < bytes.count { elements.append(WireElement(range: bodyStart..<bytes.count, note: "not parsed (\(WireAnalysis.bytesText(bytes.count - bodyStart)))", role: .body, isBody: true, bodyDescription: "unparsed")) }
                offset = bytes.count
                break
            }
            if !body.isEmpty {
                switch type {
                case 20: elements += changeCipherSpec(body, &state)
                case 21: elements += alert(body, &state)
                case 22: elements += handshake(body, complete: available == length, &state)
                default: elements.append(encrypted(body, what: "application data", &state))
                }
            }
            if available < length {
                elements[elements.count - 1].warnings.append("record cut short: the length says \(length), got \(available)")
                offset = bytes.count
                break
            }
            offset = body.upperBound
        }
        var message = WireMessage(kind: .tls, start: start, length: offset - start, elements: elements, body: nil)
        message.tls = state.summary
        return message
    }

    // MARK: - Records other than handshake

    private func changeCipherSpec(_ body: Range<Int>, _ state: inout TLSState) -> [WireElement] {
        var element = WireElement(range: body, note: "change_cipher_spec", role: .body)
        if state.tls13 || state.summary.offeredVersions.contains("TLS 1.3") {
            element.note += ": a no-op in TLS 1.3, sent only so middleboxes see a familiar handshake (§D.4)"
        } else {
            element.note += ": from the next record on, this side encrypts (TLS 1.2)"
        }
        if body.count != 1 || bytes[body.lowerBound] != 1 { element.warnings.append("a change_cipher_spec is one byte, 0x01 (§5)") }
        state.afterChangeCipherSpec = true
        return [element]
    }

    private func alert(_ body: Range<Int>, _ state: inout TLSState) -> [WireElement] {
        guard body.count == 2 else {
            if state.afterChangeCipherSpec || state.tls13 { return [encrypted(body, what: "alert", &state)] }
            var element = WireElement(range: body, note: "alert?", role: .body)
            element.warnings.append("an alert is 2 bytes (level, description), got \(body.count)")
            return [element]
        }
        let level = bytes[body.lowerBound], description = bytes[body.lowerBound + 1]
        let levelName = level == 1 ? "warning" : level == 2 ? "fatal" : "level \(level)"
        let name = Self.tlsAlerts[description] ?? "unknown description \(description)"
        state.summary.alerts.append("\(levelName) \(name)")
        var levelElement = WireElement(range: body.lowerBound..<(body.lowerBound + 1), note: "alert level \(level) \(levelName)", role: .body)
        if level != 1 && level != 2 { levelElement.warnings.append("alert levels are 1 (warning) and 2 (fatal)") }
        var descriptionElement = WireElement(range: (body.lowerBound + 1)..<body.upperBound, note: "alert description \(description) \(name)", role: .body)
        if description == 0 { descriptionElement.note += ": the sender will send nothing more (an orderly close, §6.1)" }
        return [levelElement, descriptionElement]
    }

    private func encrypted(_ body: Range<Int>, what: String, _ state: inout TLSState) -> WireElement {
        state.summary.encryptedRecords += 1
        state.summary.encryptedBytes += body.count
        var note = "encrypted \(what) (\(WireAnalysis.bytesText(body.count)))"
        if what == "application data" && state.tls13 && state.summary.encryptedRecords == 1 {
            note += ": TLS 1.3 hides the rest of the handshake in these (EncryptedExtensions, Certificate, CertificateVerify, Finished)"
        }
        return WireElement(range: body, note: note, role: .body, isBody: true, bodyDescription: "encrypted \(what)")
    }

    // MARK: - Handshake messages

    private func handshake(_ body: Range<Int>, complete: Bool, _ state: inout TLSState) -> [WireElement] {
        if state.afterChangeCipherSpec {
            return [encrypted(body, what: "handshake message (Finished)", &state)]
        }
        var elements: [WireElement] = []
        var cursor = body.lowerBound
        if state.pendingFragment > 0 {
            let count = min(state.pendingFragment, body.count)
            elements.append(WireElement(range: cursor..<(cursor + count), note: "the rest of the \(state.pendingName) (continued from the last record)",
                                        role: .body, isBody: true, bodyDescription: state.pendingName))
            state.pendingFragment -= count
            cursor += count
        }
        while cursor < body.upperBound {
            guard cursor + 4 <= body.upperBound else {
                var element = WireElement(range: cursor..<body.upperBound, note: "handshake header?", role: .boundary)
                if complete { element.warnings.append("a handshake header takes 4 bytes (type, 24-bit length), got \(body.upperBound - cursor)") }
                elements.append(element)
                break
            }
            let type = bytes[cursor]
            let length = u24(cursor + 1)
            let name = Self.tlsHandshakeTypes[type] ?? "handshake type \(type)"
            state.summary.handshakeMessages.append(name)
            var header = WireElement(range: cursor..<(cursor + 4), note: "\(name), \(WireAnalysis.bytesText(length))", role: .boundary)
            let end = cursor + 4 + length
            let messageBody = (cursor + 4)..<min(end, body.upperBound)
            if end > body.upperBound {
                if complete {
                    state.pendingFragment = end - body.upperBound
                    state.pendingName = name
                    header.note += " (\(messageBody.count) in this record, the rest in the next)"
                }
                elements.append(header)
                if !messageBody.isEmpty {
                    elements.append(WireElement(range: messageBody, note: "\(name) body, first \(WireAnalysis.bytesText(messageBody.count))", role: .body, isBody: true, bodyDescription: name))
                }
                break
            }
            if Self.tlsHandshakeTypes[type] == nil { header.warnings.append("unknown handshake type \(type) (a receiver answers unexpected_message)") }
            var reader = TLSReader(analyzer: self, position: messageBody.lowerBound, end: messageBody.upperBound)
            switch type {
            case 1:
                if state.summary.sender == nil { state.summary.sender = "client" }
                elements.append(header)
                elements += clientHello(&reader, &state)
            case 2:
                if state.summary.sender == nil { state.summary.sender = "server" }
                let parts = serverHello(&reader, &state)
                if state.summary.helloRetryRequest && state.summary.version == nil {
                    header.note = "ServerHello (a HelloRetryRequest), \(WireAnalysis.bytesText(length))"
                    state.summary.handshakeMessages[state.summary.handshakeMessages.count - 1] = "HelloRetryRequest"
                }
                elements.append(header)
                elements += parts
            default:
                elements.append(header)
                if !messageBody.isEmpty {
                    elements.append(WireElement(range: messageBody, note: "\(name) body (\(WireAnalysis.bytesText(messageBody.count)))", role: .body, isBody: true, bodyDescription: name))
                }
            }
            cursor = end
        }
        return elements
    }

    /// Reads fields of a hello in order; every read checks the bounds of the message.
    private struct TLSReader {
        let analyzer: WireAnalyzer
        var position: Int
        let end: Int

        var remaining: Int { end - position }

        mutating func take(_ count: Int) -> Range<Int>? {
            guard count >= 0, position + count <= end else { return nil }
            defer { position += count }
            return position..<(position + count)
        }

        /// A length prefix of `size` bytes, then that many bytes: the whole range and the inner one.
        mutating func vector(_ size: Int) -> (whole: Range<Int>, inner: Range<Int>)? {
            guard position + size <= end else { return nil }
            let length = (0..<size).reduce(0) { $0 << 8 | Int(analyzer.bytes[position + $1]) }
            guard position + size + length <= end else { return nil }
            let start = position
            position += size + length
            return (start..<position, (start + size)..<position)
        }
    }

    /// An element for the bytes left when a hello stops making sense, with the warning saying why.
    private func malformed(_ reader: inout TLSReader, _ what: String) -> [WireElement] {
        var element = WireElement(range: reader.position..<reader.end, note: "\(what)?", role: .header)
        element.warnings.append("malformed \(what): the hello ends, or a length points past it (a receiver answers decode_error)")
        reader.position = reader.end
        return [element]
    }

    private func clientHello(_ reader: inout TLSReader, _ state: inout TLSState) -> [WireElement] {
        var elements: [WireElement] = []
        guard let version = reader.take(2) else { return malformed(&reader, "legacy version") }
        let value = u16(version.lowerBound)
        elements.append(WireElement(range: version, note: "legacy version \(Self.hex4(value)) (\(Self.tlsVersionName(value)); TLS 1.3 offers itself in supported_versions)", role: .header))
        guard let random = reader.take(32) else { return elements + malformed(&reader, "random") }
        elements.append(WireElement(range: random, note: "random (32 bytes)", role: .header))
        guard let session = reader.vector(1) else { return elements + malformed(&reader, "legacy session id") }
        elements.append(WireElement(range: session.whole, note: session.inner.isEmpty ? "legacy session id: empty"
                                    : "legacy session id, \(session.inner.count) bytes (TLS 1.3: random, for middlebox compatibility, §D.4)", role: .header))
        guard let suitesLength = reader.take(2) else { return elements + malformed(&reader, "cipher suites") }
        let suitesBytes = u16(suitesLength.lowerBound)
        var lengthElement = WireElement(range: suitesLength, note: "cipher suites: \(suitesBytes / 2) (\(suitesBytes) bytes)", role: .header)
        if suitesBytes % 2 != 0 || suitesBytes == 0 { lengthElement.warnings.append("the cipher suite list must be a non-empty, even number of bytes") }
        elements.append(lengthElement)
        guard let suites = reader.take(suitesBytes) else { return elements + malformed(&reader, "cipher suites") }
        state.summary.offeredSuites = suitesBytes / 2
        for index in stride(from: suites.lowerBound, to: suites.upperBound - 1, by: 2) {
            elements.append(WireElement(range: index..<(index + 2), note: "  " + Self.suiteNote(u16(index)), role: .header))
        }
        guard let compression = reader.vector(1) else { return elements + malformed(&reader, "compression methods") }
        let methods = bytes[compression.inner].map { $0 == 0 ? "null" : "method \($0)" }
        var compressionElement = WireElement(range: compression.whole, note: "compression methods: \(methods.joined(separator: ", "))", role: .header)
        if methods != ["null"] { compressionElement.warnings.append("TLS 1.3 allows only null compression (§4.1.2); compression enabled the CRIME attack") }
        elements.append(compressionElement)
        return elements + extensions(&reader, hello: .client, &state)
    }

    private func serverHello(_ reader: inout TLSReader, _ state: inout TLSState) -> [WireElement] {
        var elements: [WireElement] = []
        guard let version = reader.take(2) else { return malformed(&reader, "legacy version") }
        let value = u16(version.lowerBound)
        elements.append(WireElement(range: version, note: "legacy version \(Self.hex4(value)) (\(Self.tlsVersionName(value)))", role: .header))
        guard let random = reader.take(32) else { return elements + malformed(&reader, "random") }
        let randomBytes = Array(bytes[random])
        var randomElement = WireElement(range: random, note: "random (32 bytes)", role: .header)
        var hello = Hello.server
        if randomBytes == Self.helloRetryRandom {
            randomElement.note = "random = SHA-256(\"HelloRetryRequest\"): this ServerHello is a HelloRetryRequest (§4.1.3)"
            state.summary.helloRetryRequest = true
            hello = .helloRetry
        } else if randomBytes.suffix(8) == Array("DOWNGRD".utf8) + [1] {
            randomElement.note += "; ends in DOWNGRD\\x01: a TLS 1.3 server agreeing to TLS 1.2 (downgrade protection, §4.1.3)"
        } else if randomBytes.suffix(8) == Array("DOWNGRD".utf8) + [0] {
            randomElement.note += "; ends in DOWNGRD\\x00: a TLS 1.3 server agreeing to TLS 1.1 or below (§4.1.3)"
        }
        elements.append(randomElement)
        guard let session = reader.vector(1) else { return elements + malformed(&reader, "legacy session id") }
        elements.append(WireElement(range: session.whole, note: session.inner.isEmpty ? "legacy session id echo: empty"
                                    : "legacy session id echo, \(session.inner.count) bytes", role: .header))
        guard let suite = reader.take(2) else { return elements + malformed(&reader, "cipher suite") }
        let suiteNumber = u16(suite.lowerBound)
        state.summary.cipherSuite = Self.tlsCipherSuites[suiteNumber] ?? Self.hex4(suiteNumber)
        elements.append(WireElement(range: suite, note: "cipher suite " + Self.suiteNote(suiteNumber) + " (the server's choice)", role: .header))
        guard let compression = reader.take(1) else { return elements + malformed(&reader, "compression method") }
        var compressionElement = WireElement(range: compression, note: "compression method: \(bytes[compression.lowerBound] == 0 ? "null" : "method \(bytes[compression.lowerBound])")", role: .header)
        if bytes[compression.lowerBound] != 0 { compressionElement.warnings.append("compression is not allowed in TLS 1.3 and was disabled after CRIME") }
        elements.append(compressionElement)
        let before = state.summary.version
        elements += extensions(&reader, hello: hello, &state)
        if hello == .server {
            if state.summary.version == before { state.summary.version = Self.tlsVersionName(value) }
            state.tls13 = state.summary.version == "TLS 1.3"
        }
        return elements
    }

    /// Which hello an extension block belongs to: their extensions say different things.
    private enum Hello { case client, server, helloRetry }

    private func extensions(_ reader: inout TLSReader, hello: Hello, _ state: inout TLSState) -> [WireElement] {
        guard reader.remaining > 0 else {
            return [] // TLS 1.2 allows a hello without extensions
        }
        guard let block = reader.vector(2) else { return malformed(&reader, "extensions") }
        var elements = [WireElement(range: block.whole.lowerBound..<block.inner.lowerBound, note: "extensions, \(WireAnalysis.bytesText(block.inner.count))", role: .header)]
        var inner = TLSReader(analyzer: self, position: block.inner.lowerBound, end: block.inner.upperBound)
        while inner.remaining > 0 {
            guard let typeRange = inner.take(2) else { return elements + malformed(&inner, "extension") }
            let type = u16(typeRange.lowerBound)
            guard let data = inner.vector(2) else {
                inner.position = typeRange.lowerBound
                return elements + malformed(&inner, "extension")
            }
            let name = Self.isGREASE(type) ? "GREASE \(Self.hex4(type)) (RFC 8701: sent to be ignored)" : Self.tlsExtensions[type].map { "\($0) (\(type))" } ?? "unknown extension \(type)"
            elements.append(WireElement(range: typeRange.lowerBound..<data.inner.lowerBound,
                                        note: "extension \(name), \(WireAnalysis.bytesText(data.inner.count))", role: .header))
            if !data.inner.isEmpty {
                elements += extensionData(type, data.inner, hello: hello, &state)
            }
        }
        reader.position = block.whole.upperBound
        if reader.remaining > 0 {
            var trailing = WireElement(range: reader.position..<reader.end, note: "bytes after the extensions", role: .header)
            trailing.warnings.append("\(WireAnalysis.bytesText(reader.remaining)) after the extensions, inside the hello")
            elements.append(trailing)
            reader.position = reader.end
        }
        return elements
    }

    /// One extension's data, decoded where httpkit knows it; indented two spaces under its header.
    private func extensionData(_ type: Int, _ data: Range<Int>, hello: Hello, _ state: inout TLSState) -> [WireElement] {
        var reader = TLSReader(analyzer: self, position: data.lowerBound, end: data.upperBound)
        func row(_ note: String, _ range: Range<Int> = data, details: [String] = []) -> WireElement {
            var element = WireElement(range: range, note: "  " + note, role: .header)
            element.details = details.map { "  " + $0 }
            return element
        }
        /// A list of 16-bit values after a length of `size` bytes, named by `names`.
        func list(_ size: Int, _ names: (Int) -> String) -> [String]? {
            guard let vector = reader.vector(size), vector.inner.count % 2 == 0, reader.remaining == 0 else { return nil }
            return stride(from: vector.inner.lowerBound, to: vector.inner.upperBound, by: 2).map { names(u16($0)) }
        }
        /// A list shown in the note when short, else in detail rows of four.
        func listRow(_ label: String, _ items: [String]) -> WireElement {
            guard items.count > 4 else { return row("\(label): \(items.joined(separator: ", "))") }
            let rows = stride(from: 0, to: items.count, by: 4).map { items[$0..<min($0 + 4, items.count)].joined(separator: ", ") }
            return row("\(label): \(items.count)", details: rows)
        }
        let undecoded = { () -> [WireElement] in
            var element = row("\(WireAnalysis.bytesText(data.count)) that do not parse")
            element.warnings.append("malformed extension data (a receiver answers decode_error)")
            return [element]
        }
        switch (type, hello) {
        case (0, .client): // server_name (RFC 6066 §3)
            guard let names = reader.vector(2) else { return undecoded() }
            var inner = TLSReader(analyzer: self, position: names.inner.lowerBound, end: names.inner.upperBound)
            var hosts: [String] = []
            while inner.remaining > 0 {
                guard let kind = inner.take(1), let name = inner.vector(2) else { return undecoded() }
                hosts.append(bytes[kind.lowerBound] == 0 ? text(name.inner) : "name type \(bytes[kind.lowerBound])")
            }
            state.summary.serverName = hosts.first
            return [row("host_name \(hosts.joined(separator: ", ")) (SNI: which site the client wants, sent in clear)")]
        case (16, _): // application_layer_protocol_negotiation (RFC 7301)
            guard let list = reader.vector(2) else { return undecoded() }
            var inner = TLSReader(analyzer: self, position: list.inner.lowerBound, end: list.inner.upperBound)
            var protocols: [String] = []
            while inner.remaining > 0 {
                guard let name = inner.vector(1) else { return undecoded() }
                protocols.append(text(name.inner))
            }
            state.summary.alpn = protocols
            return [row(hello == .client ? "ALPN protocols [\(protocols.joined(separator: ", "))]" : "ALPN chose \(protocols.joined(separator: ", "))")]
        case (43, .client): // supported_versions (§4.2.1)
            guard let versions = list(1, { Self.isGREASE($0) ? "GREASE \(Self.hex4($0))" : Self.tlsVersionName($0) }) else { return undecoded() }
            state.summary.offeredVersions = versions.filter { !$0.hasPrefix("GREASE") }
            return [row("supported versions [\(versions.joined(separator: ", "))]")]
        case (43, _):
            guard data.count == 2 else { return undecoded() }
            let version = Self.tlsVersionName(u16(data.lowerBound))
            if hello == .server { state.summary.version = version }
            return [row("selected version \(version): the real version (the legacy fields say TLS 1.2)")]
        case (51, .client): // key_share (§4.2.8)
            guard let shares = reader.vector(2), reader.remaining == 0 else { return undecoded() }
            var elements = [row("key shares, \(WireAnalysis.bytesText(shares.inner.count))", shares.whole.lowerBound..<shares.inner.lowerBound)]
            var inner = TLSReader(analyzer: self, position: shares.inner.lowerBound, end: shares.inner.upperBound)
            while inner.remaining > 0 {
                let start = inner.position
                guard let group = inner.take(2), let key = inner.vector(2) else { return elements + undecoded() }
                let name = Self.groupName(u16(group.lowerBound))
                if !Self.isGREASE(u16(group.lowerBound)) { state.summary.keyShareGroups.append(name) }
                elements.append(row("  \(name), \(key.inner.count)-byte public key", start..<key.whole.upperBound))
            }
            return elements
        case (51, .server):
            guard let group = reader.take(2), let key = reader.vector(2) else { return undecoded() }
            let name = Self.groupName(u16(group.lowerBound))
            state.summary.keyShareGroups = [name]
            return [row("\(name), \(key.inner.count)-byte public key (the server's share: both sides now derive the handshake keys)")]
        case (51, .helloRetry):
            guard data.count == 2 else { return undecoded() }
            let name = Self.groupName(u16(data.lowerBound))
            state.summary.keyShareGroups = [name]
            return [row("selected group \(name): the client must send a new ClientHello with a \(name) key share")]
        case (13, _), (50, _): // signature_algorithms(_cert) (§4.2.3)
            guard let schemes = list(2, Self.signatureSchemeName) else { return undecoded() }
            return [listRow("signature algorithms", schemes)]
        case (10, _): // supported_groups (§4.2.7)
            guard let groups = list(2, Self.groupName) else { return undecoded() }
            return [listRow("groups", groups)]
        case (11, _): // ec_point_formats (RFC 8422 §5.1.2)
            guard let formats = reader.vector(1) else { return undecoded() }
            let names = bytes[formats.inner].map { ["uncompressed", "ansiX962_compressed_prime", "ansiX962_compressed_char2"].indices.contains(Int($0))
                ? ["uncompressed", "ansiX962_compressed_prime", "ansiX962_compressed_char2"][Int($0)] : "format \($0)" }
            return [row("point formats: \(names.joined(separator: ", "))")]
        case (45, _): // psk_key_exchange_modes (§4.2.9)
            guard let modes = reader.vector(1) else { return undecoded() }
            return [row("PSK modes: " + bytes[modes.inner].map { $0 == 0 ? "psk_ke" : $0 == 1 ? "psk_dhe_ke (resumption with a fresh key exchange)" : "mode \($0)" }.joined(separator: ", "))]
        case (21, _): // padding (RFC 7685)
            return [row("\(WireAnalysis.bytesText(data.count)) of padding")]
        case (0xff01, _): // renegotiation_info (RFC 5746)
            return [row(data.count == 1 && bytes[data.lowerBound] == 0 ? "empty: secure renegotiation is supported (RFC 5746)" : "renegotiation data, \(WireAnalysis.bytesText(data.count))")]
        case (35, _):
            return [row("a session ticket to resume with, \(WireAnalysis.bytesText(data.count))")]
        default:
            return [row("\(WireAnalysis.bytesText(data.count))")]
        }
    }

    // MARK: - Bytes and names

    func u16(_ index: Int) -> Int { Int(bytes[index]) << 8 | Int(bytes[index + 1]) }
    func u24(_ index: Int) -> Int { Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2]) }

    /// "0x0303".
    static func hex4(_ value: Int) -> String { "0x" + String(value, radix: 16).leftPadded(to: 4) }

    /// GREASE (RFC 8701): 0x0a0a, 0x1a1a … 0xfafa, reserved so that a server choking on unknown values is found early.
    static func isGREASE(_ value: Int) -> Bool { value & 0x0f0f == 0x0a0a && value >> 8 == value & 0xff }

    static func suiteNote(_ value: Int) -> String {
        if isGREASE(value) { return "\(hex4(value)) GREASE (RFC 8701: sent to be ignored)" }
        return "\(hex4(value)) \(tlsCipherSuites[value] ?? "unknown suite")"
    }

    static func groupName(_ value: Int) -> String {
        isGREASE(value) ? "GREASE \(hex4(value))" : tlsGroups[value] ?? "group \(hex4(value))"
    }

    static func signatureSchemeName(_ value: Int) -> String {
        isGREASE(value) ? "GREASE \(hex4(value))" : tlsSignatureSchemes[value] ?? "scheme \(hex4(value))"
    }

    static func tlsVersionName(_ value: Int) -> String {
        switch value {
        case 0x0300: return "SSL 3.0"
        case 0x0301: return "TLS 1.0"
        case 0x0302: return "TLS 1.1"
        case 0x0303: return "TLS 1.2"
        case 0x0304: return "TLS 1.3"
        case 0x7f00...0x7fff: return "TLS 1.3 draft \(value & 0xff)"
        default: return isGREASE(value) ? "GREASE \(hex4(value))" : "version \(hex4(value))"
        }
    }

    /// SHA-256("HelloRetryRequest"): the random of a ServerHello that is really a HelloRetryRequest (§4.1.3).
    static let helloRetryRandom: [UInt8] = [0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
                                            0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c]

    static let tlsContentTypes: [UInt8: String] = [20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data", 24: "heartbeat"]

    static let tlsHandshakeTypes: [UInt8: String] = [
        0: "HelloRequest", 1: "ClientHello", 2: "ServerHello", 4: "NewSessionTicket", 5: "EndOfEarlyData", 8: "EncryptedExtensions",
        11: "Certificate", 12: "ServerKeyExchange", 13: "CertificateRequest", 14: "ServerHelloDone", 15: "CertificateVerify",
        16: "ClientKeyExchange", 20: "Finished", 22: "CertificateStatus", 24: "KeyUpdate", 254: "message_hash",
    ]

    /// The IANA TLS Cipher Suites registry: TLS 1.3's five, then the TLS 1.2 suites clients still offer.
    static let tlsCipherSuites: [Int: String] = [
        0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384", 0x1303: "TLS_CHACHA20_POLY1305_SHA256",
        0x1304: "TLS_AES_128_CCM_SHA256", 0x1305: "TLS_AES_128_CCM_8_SHA256",
        0xc02b: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xc02c: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xc02f: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xc030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xcca8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0xccaa: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0x009e: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", 0x009f: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        0xc023: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 0xc024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        0xc027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 0xc028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        0xc009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xc00a: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xc013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xc014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", 0x006b: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
        0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", 0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        0x009c: "TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009d: "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0x003c: "TLS_RSA_WITH_AES_128_CBC_SHA256", 0x003d: "TLS_RSA_WITH_AES_256_CBC_SHA256",
        0x002f: "TLS_RSA_WITH_AES_128_CBC_SHA", 0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA", 0x000a: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        0x00ff: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV (signals secure renegotiation, RFC 5746)",
        0x5600: "TLS_FALLBACK_SCSV (a retry at a lower version, RFC 7507)",
    ]

    /// Named groups (§4.2.7, RFC 7919, and the hybrid post-quantum group browsers send).
    static let tlsGroups: [Int: String] = [
        0x0017: "secp256r1", 0x0018: "secp384r1", 0x0019: "secp521r1", 0x001d: "x25519", 0x001e: "x448",
        0x0100: "ffdhe2048", 0x0101: "ffdhe3072", 0x0102: "ffdhe4096", 0x0103: "ffdhe6144", 0x0104: "ffdhe8192",
        0x11ec: "X25519MLKEM768", 0x6399: "X25519Kyber768Draft00",
    ]

    /// Signature schemes (§4.2.3), TLS 1.2's hash/signature pairs included.
    static let tlsSignatureSchemes: [Int: String] = [
        0x0401: "rsa_pkcs1_sha256", 0x0501: "rsa_pkcs1_sha384", 0x0601: "rsa_pkcs1_sha512",
        0x0403: "ecdsa_secp256r1_sha256", 0x0503: "ecdsa_secp384r1_sha384", 0x0603: "ecdsa_secp521r1_sha512",
        0x0804: "rsa_pss_rsae_sha256", 0x0805: "rsa_pss_rsae_sha384", 0x0806: "rsa_pss_rsae_sha512",
        0x0807: "ed25519", 0x0808: "ed448", 0x0809: "rsa_pss_pss_sha256", 0x080a: "rsa_pss_pss_sha384", 0x080b: "rsa_pss_pss_sha512",
        0x081a: "ecdsa_brainpoolP256r1tls13_sha256", 0x081b: "ecdsa_brainpoolP384r1tls13_sha384", 0x081c: "ecdsa_brainpoolP512r1tls13_sha512",
        0x0201: "rsa_pkcs1_sha1", 0x0203: "ecdsa_sha1", 0x0202: "dsa_sha1",
        0x0301: "rsa_sha224", 0x0302: "dsa_sha224", 0x0303: "ecdsa_sha224", 0x0402: "dsa_sha256", 0x0502: "dsa_sha384", 0x0602: "dsa_sha512",
    ]

    static let tlsExtensions: [Int: String] = [
        0: "server_name", 1: "max_fragment_length", 5: "status_request", 10: "supported_groups", 11: "ec_point_formats",
        13: "signature_algorithms", 14: "use_srtp", 15: "heartbeat", 16: "application_layer_protocol_negotiation",
        18: "signed_certificate_timestamp", 21: "padding", 22: "encrypt_then_mac", 23: "extended_master_secret",
        27: "compress_certificate", 28: "record_size_limit", 35: "session_ticket", 41: "pre_shared_key", 42: "early_data",
        43: "supported_versions", 44: "cookie", 45: "psk_key_exchange_modes", 47: "certificate_authorities",
        49: "post_handshake_auth", 50: "signature_algorithms_cert", 51: "key_share", 17513: "application_settings",
        0xfe0d: "encrypted_client_hello", 0xff01: "renegotiation_info",
    ]

    /// Alert descriptions (§6, and RFC 5246's).
    static let tlsAlerts: [UInt8: String] = [
        0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed", 22: "record_overflow",
        40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
        45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
        50: "decode_error", 51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
        86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation", 109: "missing_extension",
        110: "unsupported_extension", 112: "unrecognized_name", 113: "bad_certificate_status_response",
        115: "unknown_psk_identity", 116: "certificate_required", 120: "no_application_protocol",
    ]
}
