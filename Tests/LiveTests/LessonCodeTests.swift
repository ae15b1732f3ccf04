import Foundation
import Testing

/// A ```swift block in a lesson: code the lesson says is in the sources.
struct LessonSnippet: Sendable, CustomStringConvertible {
    /// The lesson's file name, `07-keepalive.md`.
    let lesson: String
    /// The line of the opening fence, counted from 1.
    let line: Int
    let lines: [String]

    var description: String { "lessons/\(lesson):\(line)" }
}

/// The rule for quoted code: every ```swift block in `lessons/*.md` appears in some file under `Sources/`
/// as contiguous lines, compared after trimming each line's whitespace (a block's leading and trailing
/// empty lines do not count). A block that is deliberately not from the sources (an exercise's solution,
/// pseudo-code) says so on the line before its fence with `<!-- not-from-sources -->`, and only those
/// are skipped.
enum LessonCode {
    static let notFromSources = "<!-- not-from-sources -->"

    static var lessonsDirectory: String { HTTPKitBinary.repository.appendingPathComponent("lessons").path }

    /// The lessons' file names, sorted.
    static func lessonFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: lessonsDirectory)) ?? [])
            .filter { $0.hasSuffix(".md") }.sorted()
    }

    /// The ```swift blocks of a lesson's text that claim to be from the sources (the fence may be indented,
    /// as in a list item).
    static func snippets(in text: String, lesson: String) -> [LessonSnippet] {
        let lines = text.components(separatedBy: "\n")
        var snippets: [LessonSnippet] = []
        var index = 0
        while index < lines.count {
            let fence = lines[index].trimmingCharacters(in: .whitespaces)
            if fence.hasPrefix("```") {
                var end = index + 1
                while end < lines.count && !lines[end].trimmingCharacters(in: .whitespaces).hasPrefix("```") { end += 1 }
                let marked = index > 0 && lines[index - 1].trimmingCharacters(in: .whitespaces) == notFromSources
                if fence.hasPrefix("```swift") && !marked {
                    snippets.append(LessonSnippet(lesson: lesson, line: index + 1, lines: Array(lines[(index + 1)..<min(end, lines.count)])))
                }
                index = end // past the closing fence: a ``` inside another block is not a fence
            }
            index += 1
        }
        return snippets
    }

    static func snippets(inLesson name: String) -> [LessonSnippet] {
        guard let text = try? String(contentsOfFile: lessonsDirectory + "/" + name, encoding: .utf8) else { return [] }
        return snippets(in: text, lesson: name)
    }

    /// Each line trimmed; the leading and trailing empty lines dropped.
    static func normalise(_ lines: [String]) -> [String] {
        var trimmed = lines.map { $0.trimmingCharacters(in: .whitespaces) }
        while trimmed.first?.isEmpty == true { trimmed.removeFirst() }
        while trimmed.last?.isEmpty == true { trimmed.removeLast() }
        return trimmed
    }

    /// Every file under `Sources/`, as trimmed lines, read once.
    static let sources: [String: [String]] = {
        let root = HTTPKitBinary.repository.appendingPathComponent("Sources").path
        var files: [String: [String]] = [:]
        for path in FileManager.default.enumerator(atPath: root)?.compactMap({ $0 as? String }) ?? [] {
            guard let text = try? String(contentsOfFile: root + "/" + path, encoding: .utf8) else { continue }
            files["Sources/" + path] = text.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return files
    }()

    /// The source file that holds `snippet`'s lines, in order and contiguous; nil if none does.
    static func source(of snippet: [String]) -> String? {
        let needle = normalise(snippet)
        guard let first = needle.first else { return "(an empty block)" }
        for (path, lines) in sources.sorted(by: { $0.key < $1.key }) where lines.count >= needle.count {
            for start in 0...(lines.count - needle.count) where lines[start] == first {
                if lines[start..<(start + needle.count)].elementsEqual(needle) { return path }
            }
        }
        return nil
    }

    /// What a failure says: where the block is, how it starts, and what to do.
    static func complaint(_ snippet: LessonSnippet) -> String {
        let opening = normalise(snippet.lines).prefix(4).map { "    " + $0 }.joined(separator: "\n")
        return "\(snippet): this ```swift block is not in Sources/ (compared line by line, whitespace trimmed). "
            + "Copy it again from the current source, or, if it is not meant to be from the sources, put "
            + "\(notFromSources) on the line before the fence. It starts:\n\(opening)"
    }
}

@Suite("lesson code matches the sources")
struct LessonCodeTests {
    @Test func enoughSnippetsAreChecked() {
        let count = LessonCode.lessonFiles().flatMap(LessonCode.snippets(inLesson:)).count
        #expect(count >= 40, "only \(count) ```swift blocks are checked in \(LessonCode.lessonsDirectory)")
        #expect(LessonCode.sources.count >= 50, "only \(LessonCode.sources.count) files found under Sources/")
    }

    @Test("each ```swift block in a lesson is copied from the sources", arguments: LessonCode.lessonFiles())
    func lesson(_ name: String) {
        for snippet in LessonCode.snippets(inLesson: name) where LessonCode.source(of: snippet.lines) == nil {
            Issue.record("\(LessonCode.complaint(snippet))")
        }
    }

    @Test func anEditedSnippetIsCaught() throws {
        let original = try #require(LessonCode.lessonFiles().flatMap(LessonCode.snippets(inLesson:))
            .first { LessonCode.normalise($0.lines).count >= 3 })
        var lines = original.lines
        let last = try #require(lines.lastIndex { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
        lines[last] += " // edited in the lesson only"
        #expect(LessonCode.source(of: original.lines) != nil, "\(original) should be found as it is")
        #expect(LessonCode.source(of: lines) == nil, "a snippet edited to disagree with the sources must fail")
        // Reindenting is not an edit; dropping a line from the middle is.
        #expect(LessonCode.source(of: original.lines.map { "  " + $0 + " " }) != nil)
        var shortened = LessonCode.normalise(original.lines)
        shortened.remove(at: 1)
        #expect(LessonCode.source(of: shortened) == nil, "lines must be contiguous in the source")
    }

    @Test func onlyMarkedBlocksAreSkipped() {
        let lesson = """
            Some prose.

            <!-- not-from-sources -->
            ```swift
            let solution = "an exercise's answer"
            ```

            ```swift
            let quoted = "claims to be from the sources"
            ```

            ```console
            $ httpkit stages
            ```
            """
        let snippets = LessonCode.snippets(in: lesson, lesson: "example.md")
        #expect(snippets.map(\.line) == [8])
        #expect(snippets.first.map { LessonCode.complaint($0) }?.contains("lessons/example.md:8") == true)
        #expect(snippets.first.map { LessonCode.complaint($0) }?.contains("let quoted") == true)
    }
}
