import Testing
@testable import Stages
import HTTPCore
import Sockets

/// The event loop's connections (and the proxy's upstream connections) by descriptor: an array indexed by
/// the descriptor's number.
@Suite("the event loop's descriptor tables")
struct DescriptorTableTests {
    static func connection() -> Connection {
        Connection(transport: SendBuffer(), policy: .init(keepAlive: true, maxRequests: 0, limits: RequestLimits()),
                   acceptedAt: 0)
    }

    @Test func findsAddsAndForgetsByDescriptor() {
        var table = ConnectionTable()
        #expect(table.isEmpty && table[5] == nil && table[-1] == nil && table.values.isEmpty)
        let five = Self.connection(), nine = Self.connection(), three = Self.connection()
        table[5] = five
        table[9] = nine
        table[3] = three
        #expect(table.count == 3 && table[5] === five && table[9] === nine && table[3] === three)
        #expect(table[4] == nil && table[1000] == nil, "a free number inside or past the table is nobody")
        #expect(table.values.map { ObjectIdentifier($0) } == [three, five, nine].map { ObjectIdentifier($0) }, "in descriptor order")
        table[5] = nil
        table[5] = nil // forgetting twice counts once
        table[1000] = nil // forgetting a number never used grows nothing
        #expect(table.count == 2 && table[5] == nil)
        let reused = Self.connection()
        table[9] = reused // the kernel reuses a closed descriptor's number: the new connection replaces it
        #expect(table.count == 2 && table[9] === reused)
        table[-1] = Self.connection() // not a descriptor: ignored
        #expect(table.count == 2)
        table[3] = nil
        table[9] = nil
        #expect(table.isEmpty && table.values.isEmpty)
    }

    @Test func removeAllForgetsEveryValueAndKeepsWorking() {
        var table = ConnectionTable()
        table[2] = Self.connection()
        table[7] = Self.connection()
        table.removeAll() // the proxy's upstreams when the loop stops
        #expect(table.isEmpty && table[2] == nil && table[7] == nil && table.values.isEmpty)
        let again = Self.connection()
        table[7] = again
        #expect(table.count == 1 && table[7] === again)
    }
}
