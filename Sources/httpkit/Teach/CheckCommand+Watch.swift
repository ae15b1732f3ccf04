import Foundation
import Sockets

/// `httpkit check --watch`: the checks again each time the learner saves a file, as a test runner's watch
/// mode does. The folder is polled every 300 ms (each file's size and modification time; a few hundred
/// files cost nothing), and Enter on the terminal runs the checks at once. Files the run itself writes (a
/// compiled binary, a log) are part of the picture taken after it, so they do not start another run.
extension CheckCommand {
    func watchAndRerun() throws {
        let folder = watchFolder ?? Self.folder(of: command) ?? FileManager.default.currentDirectoryPath
        var run = 1
        var keys = FileDescriptor.standardInput
        var keysOpen = true
        while !StopSignal.isRequested {
            do {
                _ = try runOnce()
            } catch let error as CLIError {
                // Your server did not start (a syntax error?): say so and wait for the fix.
                print(error.message)
            }
            let before = FolderSnapshot(folder)
            print("[watch] run \(run) done. Watching \(folder) (\(before.count) file\(before.count == 1 ? "" : "s")): "
                  + "the checks run again when one changes\(keysOpen ? "; Enter runs them now" : ""); Ctrl-C stops.")
            fflush(nil)
            var reason: String?
            while reason == nil && !StopSignal.isRequested {
                if keysOpen {
                    do {
                        if try keys.waitUntilReadable(milliseconds: 300) {
                            if try keys.read().isEmpty { keysOpen = false } else { reason = "Enter" }
                        }
                    } catch {
                        // poll or read interrupted by Ctrl-C (the loop ends), or no usable stdin: poll the files only.
                        if !StopSignal.isRequested { keysOpen = false }
                    }
                } else {
                    usleep(300_000)
                }
                if reason == nil, let changed = FolderSnapshot(folder).changed(since: before) {
                    usleep(100_000) // an editor may write a file in several steps
                    reason = changed
                }
            }
            keys = FileDescriptor.standardInput
            guard let reason else { break }
            run += 1
            print("")
            print("[watch] run \(run): \(reason == "Enter" ? "Enter pressed" : "\(reason) changed")")
        }
    }

    /// The folder of the first word of an --exec command that names an existing file (`python3 dir/server.py
    /// {port}` → dir), or nil.
    static func folder(of command: String?) -> String? {
        guard let command else { return nil }
        for word in command.split(separator: " ").map({ String($0).trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) }) {
            var isDirectory: ObjCBool = false
            if word.contains("/"), FileManager.default.fileExists(atPath: word, isDirectory: &isDirectory), !isDirectory.boolValue {
                return (word as NSString).deletingLastPathComponent
            }
        }
        return nil
    }
}

/// Each file's size and modification time under a folder (hidden entries and __pycache__ left out).
struct FolderSnapshot: Equatable {
    let files: [String: [Double]]
    var count: Int { files.count }

    init(_ folder: String) {
        var files: [String: [Double]] = [:]
        let manager = FileManager.default
        var pending = [""]
        while let relative = pending.popLast(), files.count < 5_000 {
            let path = relative.isEmpty ? folder : folder + "/" + relative
            for name in (try? manager.contentsOfDirectory(atPath: path)) ?? [] where !name.hasPrefix(".") && name != "__pycache__" {
                let child = relative.isEmpty ? name : relative + "/" + name
                guard let attributes = try? manager.attributesOfItem(atPath: folder + "/" + child) else { continue }
                if attributes[.type] as? FileAttributeType == .typeDirectory {
                    pending.append(child)
                } else {
                    let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                    files[child] = [modified, Double((attributes[.size] as? NSNumber)?.intValue ?? 0)]
                }
            }
        }
        self.files = files
    }

    /// The first file (by name) added, removed or changed since `earlier`, or nil.
    func changed(since earlier: FolderSnapshot) -> String? {
        Set(files.keys).union(earlier.files.keys).sorted().first { files[$0] != earlier.files[$0] }
    }
}
