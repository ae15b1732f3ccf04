import Testing
@testable import Stages
import HTTPCore

/// The /metrics text: counters from several loops summed, the histogram cumulative, the 0.0.4 format.
@Suite("metrics: per-loop counters summed into Prometheus's text format")
struct MetricsTests {
    @Test func twoLoopsAreSummedAndTheHistogramIsCumulative() {
        let registry = MetricsRegistry(upstreams: ["127.0.0.1:8081"])
        let first = registry.register(), second = registry.register()
        first.record(.get, status: 200, seconds: 0.0004)
        second.record(.get, status: 204, seconds: 0.003)
        second.record("PROPFIND", status: 404, seconds: 7)
        first.add(LoopMetrics.Slot.connectionsOpened, 3)
        second.add(LoopMetrics.Slot.connectionsClosed, 1)
        first.upstreams[0].requests.add(2, ordering: .relaxed)
        second.upstreams[0].up.store(0, ordering: .relaxed)
        let text = registry.exposition()
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in [
            "httpkit_http_requests_total{method=\"GET\",status=\"2xx\"} 2",
            "httpkit_http_requests_total{method=\"other\",status=\"4xx\"} 1",
            "httpkit_http_request_duration_seconds_bucket{le=\"0.0005\"} 1",
            "httpkit_http_request_duration_seconds_bucket{le=\"0.005\"} 2",
            "httpkit_http_request_duration_seconds_bucket{le=\"5.0\"} 2",
            "httpkit_http_request_duration_seconds_bucket{le=\"+Inf\"} 3",
            "httpkit_http_request_duration_seconds_count 3",
            "httpkit_open_connections 2",
            "httpkit_proxy_upstream_requests_total{upstream=\"127.0.0.1:8081\"} 2",
            "httpkit_proxy_upstream_up{upstream=\"127.0.0.1:8081\"} 0",
            "# TYPE httpkit_http_request_duration_seconds histogram",
        ] {
            #expect(lines.contains(expected), "missing \(expected) in:\n\(text)")
        }
        #expect(registry.response().headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(text.hasSuffix("\n"))
    }

    @Test func theMethodSwitchFollowsTheMethodNames() {
        // `record` finds a method's slot with a switch; the exposition names the slots from `methods`.
        for (index, method) in LoopMetrics.Slot.methods.enumerated() {
            #expect(LoopMetrics.Slot.methodIndex(method) == index, "\(method)")
        }
        #expect(LoopMetrics.Slot.methodIndex("PROPFIND") == LoopMetrics.Slot.methods.count)
    }
}
