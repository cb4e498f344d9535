import ClassicBPF
import PacketFilter
import Testing

/// Long chains of alternatives, as filter files hold them (`udp port 1000 or udp port 1001
/// or ...`): past 64 facts on a path the optimizer still knows what the tests at the chain's
/// start said (a lone fact about its value stays among a path's facts), so a chain of 35 or 100
/// terms is no longer than libpcap's program, as one of 32 always was, and keeps the packets
/// libpcap's keeps, cut ones too. A search that follows each way past a chain (`WaySearch`)
/// takes as many steps as the chain has tests: `not (port 2000 or ... or port 2099) and udp`
/// rejects a TCP packet before its ports only when the search from its protocol test reaches
/// the end. A port the chain tests twice (a second `not (…)` repeating ports of the first)
/// is tested once.
@Suite("Long chains of alternatives")
struct LongChainTests {
    static func chain(_ count: Int, _ term: (Int) -> String) -> String {
        (0..<count).map(term).joined(separator: " or ")
    }

    /// `not (port 2000 or ... ) and ` followed by `tail`.
    static func notPorts(_ count: Int, and tail: String) -> String {
        let ports: String = chain(count) { "port \(2000 + $0)" }
        return "not (" + ports + ") and " + tail
    }

    static let expressions: [String] = [35, 100].flatMap { (count: Int) -> [String] in
        [
            chain(count) { "udp port \(1000 + $0)" },
            chain(count) { "port \(2000 + $0)" },
            chain(count) { "\(["tcp", "udp", "sctp"][$0 % 3]) port \(3000 + $0)" },
            chain(count) { "host 10.1.\($0 / 200).\($0 % 200 + 1)" },
            chain(count) { "net 10.\($0 / 256).\($0 % 256).0/24" },
            "not (" + chain(count) { "udp port \(1000 + $0)" } + ")",
            chain(count) { "(tcp port \(4000 + $0) and host 192.168.\($0 / 250).\($0 % 250 + 1))" },
            notPorts(count, and: "udp"),
            notPorts(count, and: "tcp"),
            notPorts(count, and: "udp port 53"),
            // A second chain repeating ports of the first: its tests are kept once (140 and
            // 407 instructions before, libpcap's 129 and 386).
            notPorts(count, and: notPorts(5, and: "udp")),
        ]
    }

    /// The optimizer emits the program with and without its way searches and keeps the
    /// shorter: where only the one with them fits the kernel's 4,096 instructions, a live
    /// socket gets it (the other used to refuse the filter, needing 4,183 here).
    @Test("a live filter that fits only with the way searches is taken")
    func liveFitsWithSearches() throws {
        let expression = Self.notPorts(550, and: "udp")
        let live = try PacketFilter.compileForSocket(expression)
        #expect(live.instructions.count <= ClassicOpcode.maxInstructions)
        #expect(live.instructions.count == (try PacketFilter.compile(expression)).instructions.count)
    }

    @Test("no longer than libpcap's programs, and the same packets kept, on every link type")
    func agreement() throws {
        guard let compared = try Self.compareWithLibpcap(Self.expressions) else { return }
        #expect(compared == Self.expressions.count * FilterLinkType.allCases.count)
    }

    /// Compares each expression's program on every link type libpcap compiles it for with
    /// libpcap's: no longer, and the same packets of the corpus kept, whole and cut; where
    /// libpcap refuses one as matching nothing, that we refuse it too. The programs compared
    /// and refused by both, nil without tcpdump or the corpus.
    static func compareWithLibpcap(_ expressions: [String], skippingRefused: Bool = false) throws -> Int? {
        guard let tcpdump = FilterTestSupport.tcpdump() else { return nil }
        guard let corpus = FilterTestSupport.requireCorpus() else { return nil }
        var compared = 0, runs = 0, refusedByBoth = 0
        for expression in expressions {
            for linkType in FilterLinkType.allCases {
                let reference = FilterTestSupport.libpcap(tcpdump, expression, linkType)
                if case .refused(let message) = reference, message.contains("expression rejects all packets") {
                    // IPv4 hosts on a raw IPv6 link: refused by both, as matching nothing.
                    #expect(throws: FilterError.self, "\(expression.prefix(60))... on \(linkType): libpcap refuses, we compile") {
                        try PacketFilter.compile(expression, linkType: linkType)
                    }
                    refusedByBoth += 1
                    continue
                }
                guard case .program(let raw) = reference else {
                    if !skippingRefused { Issue.record("libpcap refuses \(expression.prefix(60))... on \(linkType)") }
                    continue
                }
                let ours = try PacketFilter.compile(expression, linkType: linkType)
                let label = "-y \(linkType.dataLinkName) '\(expression.prefix(60))...'"
                #expect(ours.instructions.count <= raw.count, "\(label): \(ours.instructions.count) instructions, libpcap's \(raw.count)")
                compared += 1
                let mine = ClassicInterpreter(program: ours)
                let theirs = ClassicInterpreter(program: try ClassicProgram(raw))
                let packets = corpus.files.filter { $0.linkType == linkType }.flatMap(\.packets)
                let differing = packets.filter {
                    (mine.run(packet: $0.data, wireLength: $0.wireLength) != 0) != (theirs.run(packet: $0.data, wireLength: $0.wireLength) != 0)
                }.count
                runs += packets.count
                #expect(differing == 0, "\(label): \(differing) of \(packets.count) packets kept differently")
                // A cut packet is kept from one length on: the same one for both.
                let cutDiffering = packets.filter { mine.run(packet: $0.data, wireLength: $0.wireLength) != 0 }.filter {
                    ReshapingTests.shortestKept(mine, $0.data, $0.wireLength) != ReshapingTests.shortestKept(theirs, $0.data, $0.wireLength)
                }.count
                #expect(cutDiffering == 0, "\(label): \(cutDiffering) packets kept from another cut")
            }
        }
        print("vs libpcap: \(compared) programs compared, \(runs) runs; \(refusedByBoth) refused by both as matching nothing")
        return compared + refusedByBoth
    }
}
