extension WireAnalyzer {
    /// chunk-size lines, chunk data, the last chunk, trailers and the final CRLF (RFC 9112 §7.1).
    func analyzeChunks(from start: Int, gzipped: Bool) -> ([WireElement], Int, WireBody) {
        var elements: [WireElement] = []
        var summary = WireBody()
        var offset = start
        var dataRanges: [Range<Int>] = []
        while offset < bytes.count {
            guard let sizeLine = line(at: offset) else {
                var element = WireElement(range: offset..<bytes.count, note: "chunk-size?", role: .boundary)
                element.warnings.append("no line end: the chunked body is cut off")
                elements.append(element)
                offset = bytes.count
                break
            }
            let sizeText = text(sizeLine.content)
            // On bytes: a fuzzer found that asking a non-ASCII character for its ASCII value traps.
            let hexDigits = String(decoding: bytes[sizeLine.content].prefix { ASCII.hexValue($0) != nil }, as: UTF8.self)
            var sizeElement = WireElement(range: offset..<sizeLine.next, note: "", role: .boundary)
            if sizeLine.bareLF { sizeElement.warnings.append("bare LF (expected CRLF)") }
            guard let size = Int(hexDigits, radix: 16), hexDigits.count <= 15 else {
                sizeElement.note = "chunk-size?"
                sizeElement.warnings.append("'\(sizeText)' is not a hexadecimal chunk size")
                elements.append(sizeElement)
                offset = sizeLine.next
                if offset < bytes.count { elements.append(framingLost(from: offset)) }
                offset = bytes.count
                break
            }
            let extensions = String(decoding: bytes[sizeLine.content].dropFirst(hexDigits.utf8.count), as: UTF8.self)
            summary.framingBytes += sizeLine.next - offset
            offset = sizeLine.next
            if size == 0 {
                sizeElement.note = "last-chunk (size 0)" + (extensions.isEmpty ? "" : ", extensions \(extensions)")
                elements.append(sizeElement)
                // Trailer fields, then the final CRLF.
                while let trailer = line(at: offset) {
                    if trailer.content.isEmpty {
                        var end = WireElement(range: offset..<trailer.next, note: "end of chunked body\(elements.last?.note.hasPrefix("trailer") == true ? "" : " (no trailers)")", role: .boundary)
                        if trailer.bareLF { end.warnings.append("bare LF (expected CRLF)") }
                        elements.append(end)
                        summary.framingBytes += trailer.next - offset
                        offset = trailer.next
                        break
                    }
                    let name = text(trailer.content).split(separator: ":").first.map(String.init) ?? "?"
                    elements.append(WireElement(range: offset..<trailer.next, note: "trailer  \(name)", role: .header))
                    summary.framingBytes += trailer.next - offset
                    offset = trailer.next
                }
                if elements.last?.note.hasPrefix("end of chunked body") != true {
                    elements[elements.count - 1].warnings.append("the chunked body never ends (no final CRLF)")
                }
                break
            }
            sizeElement.note = "chunk-size 0x\(hexDigits) = \(WireAnalysis.bytesText(size))" + (extensions.isEmpty ? "" : ", extensions '\(extensions)' ignored")
            elements.append(sizeElement)
            summary.chunks += 1
            let available = min(size, bytes.count - offset)
            if available == 0 {
                elements[elements.count - 1].warnings.append("chunk-size says \(size), got 0 (cut off)")
                break
            }
            let dataRange = offset..<(offset + available)
            dataRanges.append(dataRange)
            var dataElements = gzipped && summary.chunks == 1
                ? bodyElements(dataRange, gzipped: false, label: "chunk data")
                : bodyElements(dataRange, gzipped: false, label: "chunk data")
            if gzipped && summary.chunks == 1 && dataRange.count >= 10 && bytes[dataRange].starts(with: [0x1f, 0x8b]) {
                dataElements[0].note = "chunk data (\(dataRange.count) bytes), gzip member starts: 1f8b magic, 08=deflate"
            }
            summary.payload += bytes[dataRange]
            offset += available
            if available < size {
                dataElements[dataElements.count - 1].warnings.append("chunk-size says \(size), got \(available) (cut off)")
                elements += dataElements
                break
            }
            // The CRLF after the data; if it is not there, the size was wrong: find where the data really ended.
            if offset + 1 < bytes.count, bytes[offset] == ASCII.cr, bytes[offset + 1] == ASCII.lf {
                elements += dataElements
                elements.append(WireElement(range: offset..<(offset + 2), note: "end of chunk data", role: .boundary))
                summary.framingBytes += 2
                offset += 2
            } else {
                let actual = bytes[dataRange.lowerBound...].firstRange(of: ASCII.crlf).map { $0.lowerBound - dataRange.lowerBound }
                dataElements[dataElements.count - 1].warnings.append(
                    actual.map { "chunk-size says \(size), got \($0) (the data is not followed by CRLF)" } ?? "chunk data is not followed by CRLF")
                elements += dataElements
                elements.append(framingLost(from: offset))
                offset = bytes.count
                break
            }
        }
        summary.wireBytes = offset - start
        if gzipped && dataRanges.count > 1 {
            for index in elements.indices where elements[index].note.hasPrefix("chunk data") {
                elements[index].bodyDescription = "gzip data"
            }
        }
        return (elements, offset, summary)
    }
}
