import Foundation
import Testing

/// The rule for names in a lesson's prose: a `code span` that reads like a Swift name (`LineScanner`,
/// `acceptPending`, `SystemError.isPeerGone`) names something that exists in Sources/, Tests/ or scripts/,
/// and a span that is a path (`Sources/Stages/ForkStage.swift`) names a file that exists. Lesson code blocks
/// are LessonCodeTests' business; this catches the prose around them, which drifts the same way when a
/// function is renamed or removed. Names from outside the project (Apache's, Python's, the browser's) are
/// listed in `foreign`, each with where it comes from.
enum LessonSymbols {
    /// Names a lesson may mention that are not httpkit's.
    static let foreign: [String: String] = [
        "PreforkStage": "an exercise in lesson 04 asks the learner to write it",
        "ServerTiming": "an exercise in lesson 08b asks the learner to write it",
        "VmSize": "a field of /proc/PID/status",
        "MaxRequestWorkers": "Apache's setting",
        "ConnectionResetError": "Python's exception",
        "nextHopProtocol": "the browser's PerformanceResourceTiming field",
        "CacheControl": "the Python package cachecontrol's class",
        "FileETag": "Apache's directive",
        "passRetained": "the Swift standard library's Unmanaged.passRetained",
        "oneHTTP": "output quoted in lesson 07: the body one, then the next status line with no line end between",
    ]

    /// Every word (letters, digits, _) of every file under Sources/, Tests/ and scripts/: a name exists when
    /// it is one of them.
    static let projectWords: Set<Substring> = {
        var text = ""
        for folder in ["Sources", "Tests", "scripts"] {
            let root = HTTPKitBinary.repository.appendingPathComponent(folder).path
            for path in FileManager.default.enumerator(atPath: root)?.compactMap({ $0 as? String }) ?? []
            where !path.contains("Golden") {
                if let file = try? String(contentsOfFile: root + "/" + path, encoding: .utf8) { text += file + "\n" }
            }
        }
        return Set(text.split { !($0.isLetter || $0.isNumber || $0 == "_") })
    }()

    static func exists(_ name: String) -> Bool { projectWords.contains(Substring(name)) }

    /// The code spans of a lesson's prose (fenced blocks left out).
    static func codeSpans(in text: String) -> [String] {
        var spans: [String] = []
        var inFence = false
        for line in text.components(separatedBy: "\n") {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                inFence.toggle()
                continue
            }
            guard !inFence else { continue }
            let parts = line.split(separator: "`", omittingEmptySubsequences: false)
            for index in stride(from: 1, to: parts.count - 1, by: 2) { spans.append(String(parts[index])) }
        }
        return spans
    }

    /// Names in a span that look like Swift's: UpperCamelCase with a second capital, or lowerCamelCase.
    static func names(in span: String) -> [String] {
        let words = span.split { !($0.isLetter || $0.isNumber || $0 == "_") }
        return words.map(String.init).filter { word in
            // An underscore is C's (EPOLL_CTL_DEL) or /proc's (Private_Dirty), not a Swift name's.
            guard let first = word.first, first.isLetter, word.allSatisfy({ $0.isASCII && $0 != "_" }) else { return false }
            let capitals = word.dropFirst().filter(\.isUppercase).count
            // lowerCamelCase has a capital after the first letter; UpperCamelCase a second one, after a lowercase letter
            // (HTTP and EPOLL_CTL_DEL are not Swift-looking names).
            if first.isLowercase { return capitals > 0 }
            return capitals > 0 && word.dropFirst().first?.isLowercase == true
        }
    }

    static func isPath(_ span: String) -> Bool {
        // A pattern such as Sources/Stages/<Stage>Stage.swift is not one file.
        span.contains("/") && [".swift", ".py", ".md", ".c", ".h"].contains { span.hasSuffix($0) } && !span.contains(" ") && !span.contains("<")
    }

    /// What a lesson names that does not exist, each as a sentence.
    static func missing(in lesson: String) -> [String] {
        guard let text = try? String(contentsOfFile: LessonCode.lessonsDirectory + "/" + lesson, encoding: .utf8) else { return [] }
        var problems: [String] = []
        for span in codeSpans(in: text) {
            if isPath(span) {
                let repository = HTTPKitBinary.repository.path
                if !FileManager.default.fileExists(atPath: repository + "/" + span)
                    && !FileManager.default.fileExists(atPath: LessonCode.lessonsDirectory + "/" + span) {
                    problems.append("lessons/\(lesson) names `\(span)`, which is not a file")
                }
                continue
            }
            if [".swift", ".py", ".md"].contains(where: { span.hasSuffix($0) }) { continue } // a file name without its folder
            for name in names(in: span) where foreign[name] == nil && !exists(name) {
                problems.append("lessons/\(lesson) names `\(name)` (in `\(span)`), which is nowhere in Sources/, Tests/ or scripts/: "
                                + "rename it as the code does now, or list it in LessonSymbols.foreign if it is not httpkit's")
            }
        }
        return problems
    }
}

@Suite("lesson prose names what exists")
struct LessonSymbolTests {
    @Test("every name and path in a lesson's prose exists", arguments: LessonCode.lessonFiles())
    func lesson(_ name: String) {
        for problem in LessonSymbols.missing(in: name) { Issue.record("\(problem)") }
    }

    @Test func aRenamedSymbolIsCaught() {
        #expect(LessonSymbols.names(in: "SystemError.isPeerGone") == ["SystemError", "isPeerGone"])
        #expect(LessonSymbols.names(in: "EPOLL_CTL_DEL, HTTP/1.1, read()").isEmpty)
        #expect(LessonSymbols.exists("isPeerGone"))
        // Made at run time, so that this file does not hold the name it looks for.
        let renamed = ["isPeer", "LongGone"].joined()
        #expect(!LessonSymbols.exists(renamed))
        #expect(LessonSymbols.codeSpans(in: "a `LineScanner` here\n```swift\nlet `x` = 1\n```\n`acceptPending()`") == ["LineScanner", "acceptPending()"])
    }
}
