import Testing
import HTTPCore

/// Octets from the RFC's hex dumps, spaces and line breaks ignored: "8286 8441" → [0x82, 0x86, 0x84, 0x41].
private func octets(_ hex: String) -> [UInt8] {
    let digits = Array(hex.filter(\.isHexDigit))
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

private func fields(_ pairs: KeyValuePairs<String, String>) -> [HPACKHeaderField] {
    pairs.map { HPACKHeaderField($0.key, $0.value) }
}

/// One step of an Appendix C sequence: the header list, its encoding, and the dynamic table after it.
private struct Step {
    var list: [HPACKHeaderField]
    var block: String
    var table: [HPACKHeaderField]
    var tableSize: Int
}

/// Decodes each block in turn with one decoder, checking the list and the table; then encodes each list in
/// turn with one encoder, checking the bytes and the encoder's table. A second decoder reads each block as a
/// parsed HEADERS frame holds it: a slice in the middle of the bytes received (its indices start past 0).
private func check(_ steps: [Step], tableSize: Int = 4096, huffman: HPACKString.Huffman) throws {
    var decoder = HPACKDecoder(maxTableSize: tableSize)
    var sliceDecoder = HPACKDecoder(maxTableSize: tableSize)
    var encoder = HPACKEncoder(maxTableSize: tableSize, huffman: huffman)
    for step in steps {
        #expect(try decoder.decode(octets(step.block)) == step.list)
        #expect(decoder.dynamicTable.fields == step.table)
        #expect(decoder.dynamicTable.size == step.tableSize)

        let received: [UInt8] = [0x00, 0x00, 0x05, 0x01, 0x05] + octets(step.block) + [0xFF, 0xBE]
        #expect(try sliceDecoder.decode(received[5..<(received.count - 2)]) == step.list)
        #expect(sliceDecoder.dynamicTable == decoder.dynamicTable)

        #expect(encoder.encode(step.list) == octets(step.block))
        #expect(encoder.dynamicTable.fields == step.table)
        #expect(encoder.dynamicTable.size == step.tableSize)
    }
}

// MARK: - RFC 7541 Appendix C

@Suite("HPACK vectors (RFC 7541 Appendix C)")
struct HPACKVectorTests {
    @Test func c1IntegerRepresentation() throws {
        // C.1.1: 10 with a 5-bit prefix; C.1.2: 1337 with a 5-bit prefix; C.1.3: 42 at an octet boundary.
        #expect(HPACKInteger.encode(10, prefixBits: 5) == [0x0A])
        #expect(HPACKInteger.encode(1337, prefixBits: 5) == [0x1F, 0x9A, 0x0A])
        #expect(HPACKInteger.encode(42, prefixBits: 8) == [0x2A])
        for (bytes, prefix, value) in [([UInt8(0xEA)], 5, 10), ([0xFF, 0x9A, 0x0A], 5, 1337), ([0x2A], 8, 42)] {
            var index = 0
            #expect(try HPACKInteger.decode(bytes, at: &index, prefixBits: prefix) == value)
            #expect(index == bytes.count)
        }
    }

    @Test func c2_1LiteralWithIndexing() throws {
        var decoder = HPACKDecoder()
        let block = octets("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")
        #expect(try decoder.decode(block) == fields(["custom-key": "custom-header"]))
        #expect(decoder.dynamicTable.fields == fields(["custom-key": "custom-header"]))
        #expect(decoder.dynamicTable.size == 55)
        var encoder = HPACKEncoder(huffman: .never)
        #expect(encoder.encode(fields(["custom-key": "custom-header"])) == block)
    }

    @Test func c2_2LiteralWithoutIndexing() throws {
        var decoder = HPACKDecoder()
        #expect(try decoder.decode(octets("040c 2f73 616d 706c 652f 7061 7468")) == fields([":path": "/sample/path"]))
        #expect(decoder.dynamicTable.count == 0)
    }

    @Test("a Huffman literal repeated block after block is decoded again only when its coded octets change")
    func repeatedHuffmanLiteral() throws {
        var decoder = HPACKDecoder()
        func pathBlock(_ path: String, huffman: HPACKString.Huffman) -> [UInt8] {
            var block: [UInt8] = [0x04] // literal without indexing, the name :path from the static table
            HPACKString.encode(Array(path.utf8), huffman: huffman, into: &block)
            return block
        }
        func path(_ block: [UInt8]) throws -> String? {
            try decoder.decode(block).first.map { String(decoding: $0.value, as: UTF8.self) }
        }
        let long = pathBlock("/a/long/path/to/a/file.html", huffman: .whenNotLonger)
        #expect(long[1] & 0x80 != 0, "the value is Huffman-coded")
        #expect(try path(long) == "/a/long/path/to/a/file.html")
        #expect(try path(long) == "/a/long/path/to/a/file.html")
        #expect(try path(pathBlock("/other/path/file.css", huffman: .whenNotLonger)) == "/other/path/file.css")
        #expect(try path(pathBlock("/a/long/path/to/a/file.html", huffman: .never)) == "/a/long/path/to/a/file.html")
        #expect(try path(pathBlock("/plain", huffman: .never)) == "/plain")
        #expect(try path(long) == "/a/long/path/to/a/file.html")
        // The same coded octets cut short: an error, not the remembered value.
        #expect(throws: HTTP2Error.self) { try decoder.decode(Array(long.dropLast())) }
        #expect(try path(long) == "/a/long/path/to/a/file.html")
        // A coded literal of the same length that differs in one octet is decoded, not taken for the last one.
        var changed = long
        changed[changed.count - 2] ^= 0x01
        let other = try? path(changed)
        #expect(other != "/a/long/path/to/a/file.html")

        // The same from slices of a larger buffer (as a parsed HEADERS frame holds its block), each at another
        // offset: the coded octets are compared where the slice has them, not at the buffer's start.
        func sliced(_ block: [UInt8], after prefix: Int) throws -> String? {
            let buffer = [UInt8](repeating: 0xA5, count: prefix) + block + [0x5A]
            return try decoder.decode(buffer[prefix..<(prefix + block.count)]).first.map { String(decoding: $0.value, as: UTF8.self) }
        }
        #expect(try sliced(long, after: 3) == "/a/long/path/to/a/file.html")
        #expect(try sliced(long, after: 11) == "/a/long/path/to/a/file.html")
        #expect(try sliced(changed, after: 7) == other)
        #expect(try sliced(long, after: 1) == "/a/long/path/to/a/file.html")
    }

    @Test func c2_3LiteralNeverIndexed() throws {
        var decoder = HPACKDecoder()
        let block = octets("1008 7061 7373 776f 7264 0673 6563 7265 74")
        #expect(try decoder.decode(block) == [HPACKHeaderField("password", "secret", neverIndexed: true)])
        #expect(decoder.dynamicTable.count == 0)
        var encoder = HPACKEncoder(huffman: .never)
        #expect(encoder.encode([HPACKHeaderField("password", "secret", neverIndexed: true)]) == block)
        #expect(encoder.dynamicTable.count == 0)
    }

    @Test func c2_4IndexedField() throws {
        var decoder = HPACKDecoder()
        #expect(try decoder.decode([0x82]) == fields([":method": "GET"]))
        #expect(decoder.dynamicTable.count == 0)
        var encoder = HPACKEncoder()
        #expect(encoder.encode(fields([":method": "GET"])) == [0x82])
    }

    static let requests = [
        fields([":method": "GET", ":scheme": "http", ":path": "/", ":authority": "www.example.com"]),
        fields([":method": "GET", ":scheme": "http", ":path": "/", ":authority": "www.example.com", "cache-control": "no-cache"]),
        fields([":method": "GET", ":scheme": "https", ":path": "/index.html", ":authority": "www.example.com", "custom-key": "custom-value"]),
    ]
    static let requestTables = [
        fields([":authority": "www.example.com"]),
        fields(["cache-control": "no-cache", ":authority": "www.example.com"]),
        fields(["custom-key": "custom-value", "cache-control": "no-cache", ":authority": "www.example.com"]),
    ]

    @Test func c3RequestsWithoutHuffman() throws {
        try check([
            Step(list: Self.requests[0], block: "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                 table: Self.requestTables[0], tableSize: 57),
            Step(list: Self.requests[1], block: "8286 84be 5808 6e6f 2d63 6163 6865",
                 table: Self.requestTables[1], tableSize: 110),
            Step(list: Self.requests[2], block: "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
                 table: Self.requestTables[2], tableSize: 164),
        ], huffman: .never)
    }

    @Test func c4RequestsWithHuffman() throws {
        try check([
            Step(list: Self.requests[0], block: "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
                 table: Self.requestTables[0], tableSize: 57),
            Step(list: Self.requests[1], block: "8286 84be 5886 a8eb 1064 9cbf",
                 table: Self.requestTables[1], tableSize: 110),
            Step(list: Self.requests[2], block: "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
                 table: Self.requestTables[2], tableSize: 164),
        ], huffman: .whenNotLonger)
    }

    static let date1 = "Mon, 21 Oct 2013 20:13:21 GMT"
    static let date2 = "Mon, 21 Oct 2013 20:13:22 GMT"
    static let cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
    static let responses = [
        fields([":status": "302", "cache-control": "private", "date": date1, "location": "https://www.example.com"]),
        fields([":status": "307", "cache-control": "private", "date": date1, "location": "https://www.example.com"]),
        fields([":status": "200", "cache-control": "private", "date": date2, "location": "https://www.example.com",
                "content-encoding": "gzip", "set-cookie": cookie]),
    ]
    // C.5.2 evicts (":status", "302") to make room for 307; C.5.3 evicts four entries.
    static let responseTables = [
        fields(["location": "https://www.example.com", "date": date1, "cache-control": "private", ":status": "302"]),
        fields([":status": "307", "location": "https://www.example.com", "date": date1, "cache-control": "private"]),
        fields(["set-cookie": cookie, "content-encoding": "gzip", "date": date2]),
    ]

    @Test func c5ResponsesWithoutHuffmanAndEvictions() throws {
        try check([
            Step(list: Self.responses[0], block: """
                4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
                2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
                6c65 2e63 6f6d
                """, table: Self.responseTables[0], tableSize: 222),
            Step(list: Self.responses[1], block: "4803 3330 37c1 c0bf", table: Self.responseTables[1], tableSize: 222),
            Step(list: Self.responses[2], block: """
                88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
                54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
                5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
                3d31
                """, table: Self.responseTables[2], tableSize: 215),
        ], tableSize: 256, huffman: .never)
    }

    @Test func c6ResponsesWithHuffmanAndEvictions() throws {
        try check([
            Step(list: Self.responses[0], block: """
                4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
                2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3
                """, table: Self.responseTables[0], tableSize: 222),
            Step(list: Self.responses[1], block: "4883 640e ffc1 c0bf", table: Self.responseTables[1], tableSize: 222),
            Step(list: Self.responses[2], block: """
                88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
                77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
                9587 3160 65c0 03ed 4ee5 b106 3d50 07
                """, table: Self.responseTables[2], tableSize: 215),
        ], tableSize: 256, huffman: .whenNotLonger)
    }

    /// Every list of Appendix C, encoded by this encoder and decoded by this decoder, with both Huffman
    /// choices and both table sizes: the decoder gets the list back and both tables agree.
    @Test(arguments: [HPACKString.Huffman.never, .whenNotLonger], [4096, 256])
    func roundTripOfEveryList(huffman: HPACKString.Huffman, tableSize: Int) throws {
        let lists = Self.requests + Self.responses + [
            fields(["custom-key": "custom-header"]), fields([":path": "/sample/path"]),
            [HPACKHeaderField("password", "secret", neverIndexed: true)], fields([":method": "GET"]),
        ]
        var encoder = HPACKEncoder(maxTableSize: tableSize, huffman: huffman)
        var decoder = HPACKDecoder(maxTableSize: tableSize)
        for list in lists {
            #expect(try decoder.decode(encoder.encode(list)) == list)
            #expect(decoder.dynamicTable == encoder.dynamicTable)
        }
    }
}

extension HPACKVectorTests {
    /// The encoder tries first the entry that served the same position in the previous block. Fields that
    /// move, a value that changes every block (a date) and a table small enough to evict: every block still
    /// decodes to what was sent, an exact entry is sent as its index, and the two tables agree.
    @Test(arguments: [4096, 160])
    func previousPositionsAreOnlyAHint(tableSize: Int) throws {
        var encoder = HPACKEncoder(maxTableSize: tableSize)
        var decoder = HPACKDecoder(maxTableSize: tableSize)
        for block in 0..<12 {
            var list = [HPACKHeaderField("content-type", "text/plain"), HPACKHeaderField("etag", "\"abc\""),
                        HPACKHeaderField("date", "Wed, 02 Dec 2026 05:44:\(10 + block / 3) GMT")]
            if block % 4 == 1 { list.reverse() }
            if block % 5 == 2 { list.insert(HPACKHeaderField("x-block", "\(block)"), at: 1) }
            let encoded = encoder.encode(list)
            #expect(try decoder.decode(encoded) == list)
            #expect(decoder.dynamicTable == encoder.dynamicTable)
            if tableSize == 4096 && block == 1 { #expect(encoded == [0xBE, 0xBF, 0xC0], "three indexes, in the new order") }
        }
    }
}

// MARK: - The pieces, and what the decoder refuses

@Suite("HPACK pieces and refusals (RFC 7541 §4–§6)")
struct HPACKRefusalTests {
    /// Expects a COMPRESSION_ERROR on the connection whose reason mentions `words`.
    func expectCompressionError(_ words: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected a COMPRESSION_ERROR about \(words)")
        } catch let error as HTTP2Error {
            #expect(error.code == .compressionError)
            #expect(error.scope == .connection)
            #expect(error.reason.contains(words), "\(error.reason)")
        } catch {
            Issue.record("not an HTTP2Error: \(error)")
        }
    }

    @Test func integersAtTheirLimits() throws {
        for value in [0, 30, 31, 127, 128, 255, 16_384, 1 << 21, HPACKInteger.maxValue] {
            for prefix in 1...8 {
                let bytes = HPACKInteger.encode(value, prefixBits: prefix, firstByteFlags: 0)
                var index = 0
                #expect(try HPACKInteger.decode(bytes, at: &index, prefixBits: prefix) == value)
                #expect(index == bytes.count)
            }
        }
    }

    @Test func integerOverflowIsRefused() {
        var decoder = HPACKDecoder()
        // An index of 127 + 2^35 - 1: past 2^32 - 1.
        expectCompressionError("overflow") { _ = try decoder.decode([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]) }
        // Zeros that never end: 0x80 continuation octets add nothing but keep going.
        expectCompressionError("continuation octets") { _ = try decoder.decode([0xFF] + [UInt8](repeating: 0x80, count: 8) + [0x00]) }
        expectCompressionError("cut off") { _ = try decoder.decode([0xFF, 0x80]) }
    }

    @Test func huffmanOfEveryOctet() throws {
        let all = (0...255).map { UInt8($0) }
        #expect(try HPACKHuffman.decode(HPACKHuffman.encode(all)) == all)
        #expect(HPACKHuffman.encodedCount(all) == HPACKHuffman.encode(all).count)
        #expect(HPACKHuffman.encode(Array("www.example.com".utf8)) == octets("f1e3 c2e5 f23a 6ba0 ab90 f4ff"))
        #expect(try HPACKHuffman.decode([]) == [])
    }

    @Test func huffmanPaddingAndEOSAreRefused() {
        // '0' is 00000: "00000 111" is '0' with 3 bits of padding, valid.
        #expect((try? HPACKHuffman.decode([0x07])) == Array("0".utf8))
        // '0' then 11 ones: padding longer than 7 bits.
        expectCompressionError("padding") { _ = try HPACKHuffman.decode([0x07, 0xFF]) }
        // '0' then 000: padding that is not the start of EOS.
        expectCompressionError("not all ones") { _ = try HPACKHuffman.decode([0x00]) }
        // 30 ones is EOS itself.
        expectCompressionError("EOS") { _ = try HPACKHuffman.decode([0xFF, 0xFF, 0xFF, 0xFF]) }
        // The same through the decoder: a literal without indexing whose name is Huffman [0x07, 0xFF].
        var decoder = HPACKDecoder()
        expectCompressionError("padding") { _ = try decoder.decode([0x00, 0x82, 0x07, 0xFF, 0x00]) }
    }

    @Test func indicesOutOfRangeAreRefused() {
        var decoder = HPACKDecoder()
        expectCompressionError("index 0") { _ = try decoder.decode([0x80]) }
        expectCompressionError("index 62") { _ = try decoder.decode([0xBE]) }
        // A literal whose name index is past the tables.
        expectCompressionError("index 63") { _ = try decoder.decode([0x7F, 0x00, 0x01, 0x61]) }
        expectCompressionError("only 1 left") { _ = try decoder.decode([0x00, 0x05, 0x61]) }
    }

    @Test func tableSizeUpdates() throws {
        var decoder = HPACKDecoder(maxTableSize: 4096)
        _ = try decoder.decode(octets("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))
        #expect(decoder.dynamicTable.count == 1)
        // 4096 exactly (31 + 97 + 31 × 128) is allowed; an update to 0 and back empties the table.
        #expect(try decoder.decode([0x3F, 0xE1, 0x1F, 0x20, 0x3F, 0xE1, 0x1F, 0x82]) == fields([":method": "GET"]))
        #expect(decoder.dynamicTable.count == 0)
        #expect(decoder.dynamicTable.maxSize == 4096)
        expectCompressionError("over the limit of 4096") { _ = try decoder.decode([0x3F, 0xE2, 0x1F]) }

        var fresh = HPACKDecoder()
        expectCompressionError("after a header field") { _ = try fresh.decode([0x82, 0x20]) }
    }

    @Test func aLoweredLimitRequiresAnUpdate() throws {
        var decoder = HPACKDecoder(maxTableSize: 4096)
        decoder.setMaxTableSizeLimit(256)
        expectCompressionError("does not start with the dynamic table size update") { _ = try decoder.decode([0x82]) }
        var other = HPACKDecoder(maxTableSize: 4096)
        other.setMaxTableSizeLimit(256)
        #expect(try other.decode([0x3F, 0xE1, 0x01, 0x82]) == fields([":method": "GET"]))
        #expect(other.dynamicTable.maxSize == 256)
    }

    @Test func headerListSizeLimit() throws {
        // (":method", "GET") counts 32 + 7 + 3 = 42.
        var decoder = HPACKDecoder(maxHeaderListSize: 84)
        #expect(try decoder.decode([0x82, 0x82]).count == 2)
        expectCompressionError("SETTINGS_MAX_HEADER_LIST_SIZE = 84") { _ = try decoder.decode([0x82, 0x82, 0x82]) }
    }

    @Test func dynamicTableAccountingAndEviction() {
        var table = HPACKDynamicTable(maxSize: 100)
        table.add(HPACKHeaderField("a", "1"))          // 34
        table.add(HPACKHeaderField("b", "22"))         // 35
        #expect(table.size == 69)
        table.add(HPACKHeaderField("c", "333"))        // 36: evicts "a"
        #expect(table.fields == fields(["c": "333", "b": "22"]))
        #expect(table.size == 71)
        #expect(table[1] == HPACKHeaderField("c", "333"))
        // A field larger than the whole table empties it and is not added (§4.4).
        table.add(HPACKHeaderField("big", String(repeating: "x", count: 70)))
        #expect(table.count == 0 && table.size == 0)
        table.add(HPACKHeaderField("d", "4"))
        table.setMaxSize(10)
        #expect(table.count == 0)
    }

    @Test func encoderKeepsSecretsOutOfTheTable() throws {
        var encoder = HPACKEncoder(huffman: .never)
        let list = fields(["authorization": "Basic dXNlcjpwYXNz", "cookie": "id=42", "x-request": "1"])
        let block = encoder.encode(list)
        // authorization is static index 23, cookie 32: 0001 + a 4-bit prefix, 15 + 8 and 15 + 17.
        #expect(Array(block.prefix(2)) == [0x1F, 0x08])
        #expect(encoder.dynamicTable.fields == fields(["x-request": "1"]))
        var decoder = HPACKDecoder()
        let decoded = try decoder.decode(block)
        #expect(decoded.map(\.neverIndexed) == [true, true, false])
        // Again: the secrets are literals again, the rest is an index.
        let again = encoder.encode(list)
        #expect(again.last == 0xBE)
    }

    @Test func encoderSignalsTableSizeChanges() throws {
        var encoder = HPACKEncoder(maxTableSize: 4096)
        var decoder = HPACKDecoder(maxTableSize: 4096)
        _ = try decoder.decode(encoder.encode(fields(["x-a": "1"])))
        encoder.setMaxTableSize(0)
        encoder.setMaxTableSize(1024)
        let block = encoder.encode(fields([":method": "GET"]))
        // The smallest size (0) and then the last (1024 = 31 + 993: 0xE1 0x07).
        #expect(block == [0x20, 0x3F, 0xE1, 0x07, 0x82])
        _ = try decoder.decode(block)
        #expect(decoder.dynamicTable.count == 0 && decoder.dynamicTable.maxSize == 1024)
    }

    @Test func largeFieldsAreNotIndexed() throws {
        var encoder = HPACKEncoder(maxTableSize: 256, huffman: .never)
        let big = HPACKHeaderField("x-big", String(repeating: "y", count: 200))
        let block = encoder.encode([big])
        #expect(block.first == 0x00)
        #expect(encoder.dynamicTable.count == 0)
    }
}
