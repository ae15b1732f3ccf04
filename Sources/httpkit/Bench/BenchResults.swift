import Foundation

/// The numbers scripts/bench writes (docs/benchmarks.json): per protocol, the servers, the workloads and
/// the median of each (workload, server) cell. `httpkit bench --compare docs/benchmarks.json` draws them.
/// httpkit does not start nginx, h2o or nghttpd itself: the script does that (and the interleaving, and
/// the CPU accounting), and this draws what it measured.
struct BenchResults: Decodable {
    struct Section: Decodable {
        struct Server: Decodable {
            let name: String
            let peer: Bool
        }

        struct Workload: Decodable {
            let id: String
            let label: String
            let command: String?
        }

        struct Cell: Decodable {
            let workload: String
            let server: String
            let rps: Double
            let cpuMicroseconds: Double
            let p50: Double
            let p90: Double?
            let p99: Double
            let errors: Int?

            enum CodingKeys: String, CodingKey {
                case workload, server, rps, errors
                case cpuMicroseconds = "cpu_us", p50 = "p50_ms", p90 = "p90_ms", p99 = "p99_ms"
            }
        }

        let title: String
        let date: String?
        let machine: String?
        let cores: Int?
        let command: String?
        let rounds: Int?
        let durationSeconds: Double?
        let servers: [Server]
        let workloads: [Workload]
        let results: [Cell]

        enum CodingKeys: String, CodingKey {
            case title, date, machine, cores, command, rounds, servers, workloads, results
            case durationSeconds = "duration_s"
        }
    }

    /// By protocol key ("http1", "http2"), in key order.
    let sections: [(key: String, section: Section)]

    init(from decoder: any Decoder) throws {
        let all = try decoder.singleValueContainer().decode([String: Section].self)
        sections = all.sorted { $0.key < $1.key }.map { (key: $0.key, section: $0.value) }
    }

    static func load(_ path: String) throws -> BenchResults {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CLIError(message: "bench --compare: cannot read \(path) (run scripts/bench to write docs/benchmarks.json)", exitCode: 66)
        }
        do {
            let results = try JSONDecoder().decode(BenchResults.self, from: data)
            guard !results.sections.isEmpty else { throw CLIError(message: "no sections") }
            return results
        } catch {
            throw CLIError(message: "bench --compare: \(path) is not a results file written by scripts/bench (\(Self.describe(error)))", exitCode: 65)
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing \"\(key.stringValue)\" at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "unexpected value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted:
            return "not valid JSON"
        case let error as CLIError:
            return error.message
        default:
            return "\(error)"
        }
    }

    /// Every section as bar groups: one group per workload, one line per server with its req/s and CPU
    /// per request as bars (each scaled to the group's largest), then p50/p99 latency. `only` keeps the
    /// workloads whose id or label contains it.
    func render(barWidth: Int = 24, only: String? = nil) -> [String] {
        var lines: [String] = []
        for (_, section) in sections {
            let workloads = section.workloads.filter { workload in
                only.map { workload.id.localizedCaseInsensitiveContains($0) || workload.label.localizedCaseInsensitiveContains($0) } ?? true
            }
            guard !workloads.isEmpty else { continue }
            var about = [String]()
            if let command = section.command { about.append(command) }
            if let date = section.date { about.append("on \(date)") }
            if let machine = section.machine { about.append("(\(machine)\(section.cores.map { ", \($0) cores" } ?? ""))") }
            if let rounds = section.rounds, let duration = section.durationSeconds {
                about.append("medians of \(rounds) round\(rounds == 1 ? "" : "s") × \(duration.formatted(duration == duration.rounded() ? 0 : 1)) s")
            }
            if !lines.isEmpty { lines.append("") }
            lines.append(about.isEmpty ? section.title : "\(section.title): \(about.joined(separator: " "))")
            let peers = Set(section.servers.filter(\.peer).map(\.name))
            for workload in workloads {
                let cells = section.servers.compactMap { server in
                    section.results.first { $0.workload == workload.id && $0.server == server.name }
                }
                guard !cells.isEmpty else { continue }
                let bestPeerRPS = cells.filter { peers.contains($0.server) }.map(\.rps).max()
                let bestPeerCPU = cells.filter { peers.contains($0.server) && $0.cpuMicroseconds > 0 }.map(\.cpuMicroseconds).min()
                let rows = cells.map { cell in
                    // 0 is a percentile the load tool could not tell (wrk's 99th at pipelined rates): n/a.
                    func ms(_ value: Double) -> String { value > 0 ? String(format: "%6.2f", value) : "   n/a" }
                    var note = "p50 \(ms(cell.p50))  p99 \(ms(cell.p99)) ms"
                    if !peers.contains(cell.server), let bestPeerRPS, let bestPeerCPU, bestPeerRPS > 0 {
                        note += "  \((cell.rps / bestPeerRPS).formatted(2))× best peer's req/s, \((cell.cpuMicroseconds / bestPeerCPU).formatted(2))× its CPU"
                    }
                    if let errors = cell.errors, errors > 0 { note += "  \(errors) errors" }
                    return BarChart.Row(label: cell.server, values: [cell.rps, cell.cpuMicroseconds], note: note)
                }
                lines.append("")
                lines += BarChart.render(
                    heading: workload.label + (workload.command.map { "  (\($0))" } ?? ""),
                    metrics: [BarChart.Metric(title: "req/s (more is better)", format: Self.compact),
                              BarChart.Metric(title: "CPU µs/req (less is better)", format: { $0.formatted(1) })],
                    rows: rows, barWidth: barWidth)
            }
        }
        return lines
    }

    /// 1234 → "1,234", 123456 → "123.5k".
    static func compact(_ value: Double) -> String {
        if value >= 100_000 { return (value / 1000).formatted(1) + "k" }
        let whole = Int(value.rounded())
        return whole >= 1000 ? "\(whole / 1000),\(String(format: "%03d", whole % 1000))" : String(whole)
    }
}
