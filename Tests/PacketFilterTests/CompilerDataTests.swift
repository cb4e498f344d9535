import ClassicBPF
@testable import PacketFilter
import Testing

/// The compiler's flat data: values numbered once, path facts sharing their tails, and
/// addresses read byte by byte. The code emitter and the optimizer rely on these.
@Suite("Filter compiler data")
struct CompilerDataTests {
    @Test("equal values get one number as they are added, operands before the values built from them")
    func valueNumbers() {
        let arena = PredicateArena()
        let header = FilterValue.ipHeaderLength(14)
        let port = FilterValue.loadIndexed(.half, index: header, 16)
        let sum = FilterValue.binary(.add, port, .constant(1))
        let first = arena.addValue(sum)
        #expect(arena.addValue(.binary(.add, .loadIndexed(.half, index: .ipHeaderLength(14), 16), .constant(1))) == first)
        // Added in numbered form (as the builder adds ports and arithmetic), the same number.
        #expect(arena.addValue(arena.binary(.add, arena.loadIndexed(.half, index: header, 16), .constant(1))) == first)
        #expect(arena.addValue(.binary(.add, port, .constant(2))) != first)
        #expect(arena.addValue(.loadIndexed(.byte, index: header, 16)) != arena.addValue(port))
        let (indexed, plain) = (arena.addValue(port), arena.addValue(.load(.byte, 23)))
        let chain = ProtocolChain(networkOffset: 14, ipVersion: 6, target: 6)
        #expect(arena.addValue(.protocolChain(chain)) == arena.addValue(.protocolChain(chain)))
        let table = ValueTable(arena)
        let entry = table[first]
        #expect(entry.kind == .binary && entry.left < first && entry.right < first)
        #expect(table.constant(entry.right) == 1 && table.constant(entry.left) == nil)
        #expect(table[indexed].usesX && !table[plain].usesX)
        #expect(table.chains == [chain])
    }

    @Test("a graph takes the scratch words of the values its tests read, not of those a parse left behind")
    func scratchWordsOfTests() {
        let arena = PredicateArena()
        // Left behind: read by no test.
        _ = arena.addValue(.saved(.load(.byte, 1)))
        _ = arena.addValue(arena.store(2, .load(.byte, 2)))
        // Read by the tests below: the `saved` value only through the sum.
        let sum = arena.addValue(.binary(.add, .saved(.load(.byte, 5)), .scratch(9)))
        let stored = arena.addValue(arena.store(3, .load(.byte, 2)))
        let k = arena.addValue(.constant(7))
        var tests = TestTable(numbering: arena)
        #expect(!tests.valueTable.usesSavedWord && tests.valueTable.lowestKeptWord == UInt32(ClassicOpcode.scratchWords))
        _ = tests.number(value: sum, .eq, operand: k)
        #expect(tests.valueTable.usesSavedWord && tests.valueTable.lowestKeptWord == 9)
        _ = tests.number(value: stored, .gt, operand: k)
        #expect(tests.valueTable.lowestKeptWord == 3)
    }

    @Test("path facts share tails, come out oldest first, and keep the newest 64")
    func factLists() {
        var arena = FactArena(capacity: 4)
        let common = arena.add(Fact(test: 1, outcome: true), to: FactList())
        let left = arena.add(Fact(test: 2, outcome: false), to: common)
        let right = arena.add(Fact(test: 3, outcome: true), to: common)
        func facts(_ list: FactList) -> [Fact] { arena.withFacts(list) { $0.map(Fact.init(word:)) } }
        #expect(facts(left) == [Fact(test: 1, outcome: true), Fact(test: 2, outcome: false)])
        #expect(facts(right) == [Fact(test: 1, outcome: true), Fact(test: 3, outcome: true)])
        #expect(arena.contains(left, Fact(test: 2, outcome: false)) && !arena.contains(left, Fact(test: 2, outcome: true)))
        var long = FactList()
        for test in 0..<70 { long = arena.add(Fact(test: test, outcome: test % 2 == 0), to: long) }
        #expect(facts(long) == (6..<70).map { Fact(test: $0, outcome: $0 % 2 == 0) })
        #expect(!arena.contains(long, Fact(test: 5, outcome: false)))
    }

    @Test("on a long path, a lone fact about its value stays and the newest of a chain's value do")
    func longPathFacts() {
        // `==` tests, learned false: test 0 is about value 10, 1 about 11, 2 about 12, the rest about value 13
        // (a chain of one value's tests).
        let tests = (0..<100).map { TestEntry(value: min($0, 3) + 10, operand: 0, condition: .eq, constant: UInt32($0)) }
        var arena = FactArena(capacity: 4)
        var known = Knowledge()
        for test in 0..<100 { known.learn(test, false, tests, &arena) }
        let kept = arena.withFacts(known.facts) { $0.map { Fact(word: $0).test } }
        #expect(kept.count == Int(FactList.limit))
        #expect(kept.contains(0) && kept.contains(1) && kept.contains(2))
        #expect(Set(kept.filter { $0 > 2 }) == Set(39..<100))
        // What they say still decides the tests: both `==` fail.
        #expect(known.decide(1, tests, arena) == false && known.decide(99, tests, arena) == false)
        // One older test of the chain's value is forgotten: no longer decided.
        #expect(known.decide(38, tests, arena) == nil)
    }

    @Test("Ethernet and IPv6 addresses in their written forms", arguments: [
        ("0:1b:21:3:4:5", [0, 0x1b, 0x21, 3, 4, 5] as [UInt8]?), ("00-11-22-33-44-55", [0, 0x11, 0x22, 0x33, 0x44, 0x55]),
        ("0011.2233.4455", [0, 0x11, 0x22, 0x33, 0x44, 0x55]), ("0:1:2:3:4", nil), ("0:1:2:3:4:5:6", nil),
        ("0::1:2:3:4", nil), ("100:1:2:3:4:5", nil), ("011.2233.4455", nil), ("1.2.3.4", nil), ("tcp", nil),
    ])
    func macAddresses(_ text: String, _ expected: [UInt8]?) {
        #expect(AddressParser.macAddress(text) == expected)
    }

    @Test("IPv6 addresses with '::' and an IPv4 tail", arguments: [
        ("::1", [0, 0, 0, 1] as [UInt32]?), ("fe80::", [0xfe80_0000, 0, 0, 0]),
        ("2001:db8::1:2", [0x2001_0db8, 0, 0, 0x0001_0002]), ("1:2:3:4:5:6:7:8", [0x0001_0002, 0x0003_0004, 0x0005_0006, 0x0007_0008]),
        ("::ffff:10.1.2.3", [0, 0, 0xffff, 0x0a01_0203]), ("1:2:3:4:5:6:7:8:9", nil), ("1::2::3", nil), (":::", nil),
        ("1:2:3:4:5:6:7", nil), ("12345::", nil), ("::1.2.3", nil), ("1.2::", nil), ("0:1:2:3:4:5", nil),
    ])
    func ipv6Addresses(_ text: String, _ expected: [UInt32]?) {
        #expect(AddressParser.ipv6Address(text) == expected)
    }
}
