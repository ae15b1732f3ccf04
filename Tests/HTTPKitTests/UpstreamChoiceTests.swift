import Testing
@testable import Stages

/// The proxy's choice of upstream, walked in place (`ProxyState.choose`), against the rule it states written
/// the plain way: the candidates (up and not avoided; else up; else all) in turn from the round-robin counter,
/// then the first of them, or the one with the fewest requests in flight (ties: the first in turn).
@Suite("proxy: the choice of upstream (round-robin, least-connections, health, avoiding a failed one)")
struct UpstreamChoiceTests {
    static func reference(_ servers: [UpstreamServer], turn: Int, now: Double, avoiding avoided: UpstreamServer?,
                          balance: ProxyConfiguration.Balance) -> UpstreamServer {
        var candidates = servers.filter { $0.isUp(at: now) && $0 !== avoided }
        if candidates.isEmpty { candidates = servers.filter { $0.isUp(at: now) } }
        if candidates.isEmpty { candidates = servers }
        let start = turn % candidates.count
        let inTurn = Array(candidates[start...] + candidates[..<start])
        switch balance {
        case .roundRobin: return inTurn[0]
        case .leastConnections: return inTurn.min { $0.active < $1.active } ?? inTurn[0]
        }
    }

    @Test("the same upstream as the rule says, over every mix of up, down, busy and avoided", arguments: ProxyConfiguration.Balance.allCases)
    func choiceFollowsTheRule(balance: ProxyConfiguration.Balance) {
        let addresses = (1...4).map { ProxyConfiguration.Address(host: "127.0.0.1", port: UInt16(9000 + $0)) }
        var configuration = ProxyConfiguration(upstreams: addresses)
        configuration.balance = balance
        let state = ProxyState(configuration, metrics: nil)
        let servers = state.servers
        // Seeded, so a failure can be replayed: the seed is in the message.
        let seed = UInt64.random(in: 1...UInt64.max)
        var generator = SplitMix(state: seed) // WireDumpRendererTests.swift
        var choices = 0
        for turn in 0..<2000 {
            // Each server: up or down (downUntil in the future), 0–3 requests in flight; sometimes one avoided.
            for server in servers {
                server.downUntil = Bool.random(using: &generator) && Bool.random(using: &generator) ? 100 : nil
                server.active = Int.random(in: 0...3, using: &generator)
            }
            let avoided = Bool.random(using: &generator) ? servers.randomElement(using: &generator) : nil
            let expected = Self.reference(servers, turn: turn, now: 50, avoiding: avoided, balance: balance)
            let chosen = state.choose(now: 50, avoiding: avoided)
            #expect(chosen === expected, "seed \(seed), turn \(turn): chose \(chosen.address), the rule says \(expected.address)")
            choices += 1
        }
        #expect(choices == 2000)
    }

    @Test("round-robin over healthy upstreams takes each in turn")
    func roundRobinTakesEachInTurn() {
        let addresses = (1...3).map { ProxyConfiguration.Address(host: "127.0.0.1", port: UInt16(9100 + $0)) }
        let state = ProxyState(ProxyConfiguration(upstreams: addresses), metrics: nil)
        let ports = (0..<6).map { _ in state.choose(now: 0).address.port }
        #expect(ports == [9101, 9102, 9103, 9101, 9102, 9103])
        // The one that just failed is passed over, though it is its turn.
        let first = state.servers[0]
        #expect(state.choose(now: 0, avoiding: first) !== first)
    }
}
