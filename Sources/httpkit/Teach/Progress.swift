import Foundation
import Stages

/// Which milestones the learner has finished: a stage is done when its check passed. Kept in a small
/// dotfile, `~/.httpkit/progress` (or `$HTTPKIT_PROGRESS`), one stage name per line.
enum LearnerProgress {
    static var path: String {
        if let override = ProcessInfo.processInfo.environment["HTTPKIT_PROGRESS"] { return override }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "."
        return home + "/.httpkit/progress"
    }

    static func done() -> Set<StageName> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return Set(text.split(separator: "\n").compactMap { StageName(rawValue: String($0.split(separator: " ").first ?? "")) })
    }

    static func markDone(_ stages: [StageName]) {
        let all = done().union(stages)
        let text = StageName.allCases.filter(all.contains).map(\.rawValue).joined(separator: "\n") + "\n"
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
