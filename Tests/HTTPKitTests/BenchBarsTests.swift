import Foundation
@testable import httpkit
import Testing

@Suite("bench bars")
struct BenchBarsTests {
    @Test func barsAreScaledInEighthsAndPadded() {
        #expect(BarChart.bar(8, of: 8, width: 4) == "████")
        #expect(BarChart.bar(4, of: 8, width: 4) == "██  ")
        #expect(BarChart.bar(1, of: 8, width: 4) == "▌   ")        // 4 of 32 eighths
        #expect(BarChart.bar(0.01, of: 8, width: 4) == "▏   ")     // above zero always shows
        #expect(BarChart.bar(0, of: 8, width: 4) == "    ")
        #expect(BarChart.bar(20, of: 8, width: 4) == "████")       // clipped at the maximum
    }

    @Test func aGroupLinesUpItsColumns() {
        let lines = BarChart.render(
            heading: "13 B",
            metrics: [BarChart.Metric(title: "req/s", format: { String(Int($0)) }),
                      BarChart.Metric(title: "CPU", format: { String(format: "%.1f", $0) })],
            rows: [BarChart.Row(label: "nginx", values: [100, 10]), BarChart.Row(label: "httpkit", values: [50, 5], note: "p99 1 ms")],
            barWidth: 8)
        #expect(lines == [
            "13 B",
            "           req/s         CPU",
            "  nginx    ████████ 100  ████████ 10.0",
            "  httpkit  ████      50  ████      5.0  p99 1 ms",
        ])
    }

    static let json = """
    {"http1": {"title": "HTTP/1.1 (wrk)", "date": "2026-12-02", "machine": "Linux", "cores": 2, "command": "scripts/bench --quick",
      "rounds": 1, "duration_s": 2, "workers": 1,
      "servers": [{"name": "nginx 1.22.1", "peer": true}, {"name": "httpkit keepalive", "peer": false}],
      "workloads": [{"id": "h1-13B-keepalive-c100", "label": "13 B, keep-alive, c100", "command": "wrk -t2 -c100"},
                    {"id": "h1-1KB-keepalive-c100", "label": "1 KB, keep-alive, c100", "command": "wrk -t2 -c100"}],
      "results": [
        {"workload": "h1-13B-keepalive-c100", "server": "nginx 1.22.1", "rps": 80000, "cpu_us": 12.0, "p50_ms": 1.2, "p90_ms": 1.5, "p99_ms": 2.2, "errors": 0, "runs": []},
        {"workload": "h1-13B-keepalive-c100", "server": "httpkit keepalive", "rps": 120000, "cpu_us": 8.0, "p50_ms": 0.8, "p90_ms": 1.0, "p99_ms": 1.7, "errors": 3},
        {"workload": "h1-1KB-keepalive-c100", "server": "nginx 1.22.1", "rps": 70000, "cpu_us": 13.0, "p50_ms": 1.3, "p99_ms": 2.5},
        {"workload": "h1-1KB-keepalive-c100", "server": "httpkit keepalive", "rps": 105000, "cpu_us": 9.0, "p50_ms": 0.9, "p99_ms": 0.0}]},
     "http2": {"title": "HTTP/2 (h2load)", "servers": [{"name": "h2o 2.2.5", "peer": true}], "workloads": [{"id": "h2-13B-c10-m10", "label": "13 B, -c 10 -m 10"}],
      "results": [{"workload": "h2-13B-c10-m10", "server": "h2o 2.2.5", "rps": 200000, "cpu_us": 2.0, "p50_ms": 0.3, "p99_ms": 4.8}]}}
    """

    func results() throws -> BenchResults {
        try JSONDecoder().decode(BenchResults.self, from: Data(Self.json.utf8))
    }

    @Test func drawsEveryWorkloadOfEverySection() throws {
        let text = try results().render().joined(separator: "\n")
        let full = { (count: Int) in String(repeating: "█", count: count) }
        #expect(text.hasPrefix("HTTP/1.1 (wrk): scripts/bench --quick on 2026-12-02 (Linux, 2 cores) medians of 1 round × 2 s\n"))
        #expect(text.contains("13 B, keep-alive, c100  (wrk -t2 -c100)\n"))
        #expect(text.contains("\n  nginx 1.22.1       \(full(16))         80,000  \(full(24)) 12.0  p50   1.20  p99   2.20 ms\n"))
        #expect(text.contains("\n  httpkit keepalive  \(full(24)) 120.0k  \(full(16))          8.0  p50   0.80  p99   1.70 ms  1.50× best peer's req/s, 0.67× its CPU  3 errors\n"))
        #expect(text.contains("\n1 KB, keep-alive, c100  (wrk -t2 -c100)\n"))
        // A percentile the load tool could not tell is stored as 0 (wrk's 99th, pipelined): shown as n/a, not 0.00.
        #expect(text.contains("p50   0.90  p99    n/a ms"), "\(text)")
        #expect(text.contains("\nHTTP/2 (h2load)\n"))
        #expect(text.contains("\n  h2o 2.2.5  \(full(24)) 200.0k  \(full(24)) 2.0  p50   0.30  p99   4.80 ms"))
    }

    @Test func onlyKeepsMatchingWorkloadsAndDropsEmptySections() throws {
        let lines = try results().render(only: "1KB")
        #expect(lines.contains { $0.hasPrefix("1 KB, keep-alive") })
        #expect(!lines.contains { $0.hasPrefix("13 B") })
        #expect(!lines.contains { $0.hasPrefix("HTTP/2") })
    }

    @Test func numbersAreCompact() {
        #expect(BenchResults.compact(950) == "950")
        #expect(BenchResults.compact(80_594.4) == "80,594")
        #expect(BenchResults.compact(123_456) == "123.5k")
    }
}
