import Foundation
import Stages

/// Which milestones the learner has finished, and how. A stage is *built* when its checks passed against
/// the learner's own server (`check --exec` or `--target`), and *explored* when they passed against
/// httpkit's own stage: reading and running httpkit's code is worth recording, but it is not writing one.
/// Kept in a small dotfile, `~/.httpkit/progress` (or `$HTTPKIT_PROGRESS`), a line per stage:
/// `hello built`, `static explored` (a bare name, from older versions, counts as explored).
enum LearnerProgress {
    enum Level: String, Comparable {
        case explored, built
        static func < (a: Level, b: Level) -> Bool { a == .explored && b == .built }
    }

    static var path: String {
        if let override = ProcessInfo.processInfo.environment["HTTPKIT_PROGRESS"] { return override }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "."
        return home + "/.httpkit/progress"
    }

    /// Every stage with a passed check, and the highest level it reached.
    static func levels() -> [StageName: Level] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var levels: [StageName: Level] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard let name = words.first, let stage = StageName(rawValue: String(name)) else { continue }
            let level = words.dropFirst().first.flatMap { Level(rawValue: String($0)) } ?? .explored
            levels[stage] = max(levels[stage] ?? level, level)
        }
        return levels
    }

    /// The stages done either way.
    static func done() -> Set<StageName> { Set(levels().keys) }

    static func markDone(_ stages: [StageName], as level: Level) {
        var all = levels()
        for stage in stages { all[stage] = max(all[stage] ?? level, level) }
        let text = StageName.allCases.compactMap { stage in all[stage].map { "\(stage.rawValue) \($0.rawValue)" } }.joined(separator: "\n") + "\n"
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func reset() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The first milestone not done yet, or nil when all are.
    static func next() -> StageName? {
        let finished = done()
        return StageName.allCases.first { !finished.contains($0) }
    }
}
