import ClassicBPF
import Foundation
@testable import PacketFilter
import Testing

/// Merging a test into a copy that leads its packets to the same places, hoisting a test
/// above its parent, splitting a shared test per way in, dropping an `==` that its false side
/// repeats, and threading again after
/// regrouping a chain (`GraphOptimizer.optimized`'s `reshaping`): the programs keep the packets, cut ones too, that the optimizer without
/// them keeps, are never longer than its programs, and are no longer than libpcap's where
/// libpcap's optimizer was shorter before.
@Suite("Merging and hoisting tests")
struct ReshapingTests {
    /// Once longer than libpcap's optimized program, each by its own rule: hoisting the
    /// EtherType test above the multicast test; one `less 80` for two paths; on Linux cooked
    /// captures, the protocol tested again after the chain that `stp` regrouped; the port
    /// tests split per way in (61 instructions before, libpcap's 54; it keeps some packets of
    /// the corpus and planted ones unlike libpcap, before as after, so it is not in
    /// `splitFinds`); a way sent back through the IPv6 test it decides, so that the IPv4 test
    /// after it needs no load (`shareLoads`; 50 instructions before, libpcap's 49); the
    /// EtherType tested for IPv6 and IPv4 before `> 1500`, which sends both where they went
    /// (`dropRepeatedEqualities`; 10 before, libpcap's 8), as is `esp` before `tcp` (13, 12
    /// now, libpcap's 13); on Linux cooked captures, a merge that left the destination-port
    /// test with both exits on one node, which dropped its load and so the whole merge, now
    /// keeping the test (`keepingReads`; 34 and 32 before, libpcap's 32 and 30); the UDP test
    /// after an IPv6 fragment header sent back where IPv4's goes, one `jeq #17` for both
    /// (`rejoinExits`; 38 before, libpcap's 37); a chain testing the source port, the
    /// destination's, the source's and the destination's again, the middle two swapped so
    /// that each port is loaded once (`swapChainTests`; 38 on Ethernet and Linux cooked
    /// captures before, libpcap's 37); a port test swapped with the one before it, whose
    /// value A holds there, where the packets the order decides otherwise pass a host test
    /// either way and end alike (`swapChainTests`; 51 and 42 on Ethernet before, libpcap's
    /// 50 and 41); IPv6's `esp` test moved last in its switch of protocol tests, where
    /// IPv4's `jeq #0x32` is its code too (`reorderSwitches`; 33 on Ethernet and Linux
    /// cooked captures, 34 on loopback before, libpcap's 32); `tcp` tested after `sctp` held,
    /// where the `.beyond` pass that dropped the fragment test between them left a tree that
    /// no pass threaded again (a `.decided` pass now follows; 24 on Ethernet, Linux cooked
    /// captures and loopback before, libpcap's 23); the chain of `port 53` regrouped so that
    /// the destination, which two of its three ways in leave in A, is tested first
    /// (`regroupByWaysIn`; 27 on the same four before, libpcap's 26); an exit sent back where
    /// the tests it leaves with nothing to decide keep their loads (`rejoinExits`; 26 before,
    /// libpcap's 24); an IPv6 port test's false exit sent back through the multicast test,
    /// whose `[0]` every way there read past (`[56]`), so that it and IPv4's port test are one
    /// tail (`rejoinExits`; 46 before, libpcap's 45); the ports of `tcp port 22 and port 80`,
    /// `port 53` and `tcp port 80` tested one port first and, under each of its outcomes, the
    /// other's tests that matter (`reorderPairs`; 34 before, libpcap's 29) (random finds).
    static let expressions = [
        "ip6 host ::1 and arp or ether multicast and icmp or udp port 53",
        "(ether broadcast or (icmp6 and less 80) and (ip6 or less 80) or ether[12:2] = 0x800)",
        "(not arp and greater 1000) and stp or (arp or icmp6) or (pim or udp port 53)",
        "((udp port 53 and ip6 host ::1) and ip[8] > 60 and tcp[13] & 2 != 0 or stp or len > 100 and icmp6)",
        "(not port 80 or tcp port 80 or tcp[13] & 2 != 0 or ether multicast) or (port 53 or (ip[8] > 60 and stp))",
        "(tcp[13] & 2 != 0 or (not host 10.0.0.1 or ether multicast and ether broadcast or port 80))",
        "not (port 80 and not tcp port 22) or port 80 and not stp or not ether multicast", "esp or not ((esp or tcp))",
        "(((dst port 443 and ip or not portrange 1000-2000) or dst port 443 and stp) or portrange 1000-2000)",
        "((less 80 or (esp or udp)) and (greater 1000 or not udp port 53) and ether multicast)",
        "(not tcp port 80 and not tcp port 22) or not portrange 1000-2000 or udp or less 80",
        "(tcp port 80 and tcp port 22 or ip6 host ::1 and port 80)",
        "(port 80 and port 53 and not udp port 53 or not host 10.0.0.1 and port 80)",
        "(dst port 443 and arp and not src net 192.168.0.0/16 or icmp6 or esp or portrange 1000-2000)",
        "not (not ((not dst port 443 and tcp) or dst port 443) and not udp)",
        "(portrange 1000-2000 and port 80 or dst port 443 or ip6 or port 53)",
        "(net 10.0.0.0/8 and less 80 and (not ether multicast and not net 10.0.0.0/8)) or not ether multicast or len > 100",
        "portrange 1000-2000 or (not ether multicast and (src net 192.168.0.0/16 or dst host 192.1.2.23)) or greater 1000",
        "(tcp port 22 and port 80 or port 53) and tcp port 80",
        "(arp or (tcp port 22 and not ((not port 80 or ip6))) or port 53 and tcp port 80)",
    ]

    /// Exits sent back where another test of the same comparison goes (`rejoinExits`), with
    /// the length on Ethernet each compiled to before it and now (random finds; libpcap's 71,
    /// 55 and 52).
    static let rejoinFinds: [(expression: String, before: Int, now: Int)] = [
        ("stp or udp port 53 or (not (ip6 host ::1 and port 53) and not udp) and not ip6 host ::1", 54, 40),
        ("(not port 80 and (not stp or not arp) or ether broadcast and port 53)", 48, 40),
        ("not ((ip[8] > 60 or tcp port 80) and greater 1000 and port 80 or icmp or not ether multicast)", 39, 34),
    ]

    /// Switches reordered so that their last test is laid out as the tail of another
    /// (`reorderSwitches`), with the length on Ethernet each compiled to before it and now
    /// (random finds; libpcap's 21 and 42).
    static let switchFinds: [(expression: String, before: Int, now: Int)] = [
        ("(not (udp and esp) and not less 80 or (ether broadcast and ip) and esp)", 20, 18),
        ("arp or (icmp6 or portrange 1000-2000) or ((dst port 443 or tcp) or port 80)", 42, 40),
    ]

    /// A later test whose code ends an earlier one's laid out as its tail (`CodeEmitter.shareCode`):
    /// IPv4's TCP test, on the protocol byte A holds, runs as the end of the IPv6 fragment's
    /// `ldb [54]; jeq #6` laid out before it (a random find; libpcap's 15).
    static let earlierTailFinds: [(expression: String, before: Int, now: Int)] = [("(esp and dst host 192.1.2.23 or tcp)", 14, 13)]

    /// A test hoisted above one of a masked load: on raw IP, the IP version (`ldb [0]; and
    /// #0xf0`) above a test between the versions' protocol tests, with the length each
    /// compiled to before and now (a random find; libpcap's 51).
    static let hoistFinds: [(expression: String, before: Int, now: Int)] = [("not ((tcp port 80 or less 80 and esp)) and not tcp", 24, 16)]

    @Test("exits sent back where a test of the same comparison goes, switches reordered, tails shared, hoists: shorter programs")
    func rejoinedLengths() throws {
        let finds = (Self.rejoinFinds + Self.switchFinds + Self.earlierTailFinds).map { ($0, FilterLinkType.ethernet) }
            + Self.hoistFinds.map { ($0, FilterLinkType.raw) }
        for (find, linkType) in finds {
            let length = try PacketFilter.compile(find.expression, linkType: linkType).instructions.count
            #expect(length <= find.now, "-y \(linkType.dataLinkName) '\(find.expression)': \(length) instructions, \(find.now) expected (\(find.before) before)")
        }
    }

    /// Once longer than libpcap's, the port tests shared by TCP, UDP and SCTP losing the
    /// protocol where their ways meet: shorter with each way given its own copy of what lies
    /// below (`splitPaths`), as libpcap lays `port` out per protocol (random finds; 55 and 51
    /// instructions on Ethernet before).
    static let splitFinds = [
        "tcp port 80 or portrange 1000-2000 or tcp port 80 and (arp or not ether broadcast)",
        "(ip and tcp port 80) or tcp[13] & 2 != 0 or portrange 1000-2000 or (not tcp[13] & 2 != 0 and host 192.1.2.23)",
        // A split adding nodes, shorter once UDP's ports are regrouped: 50 before, libpcap's 44.
        "not tcp and not (udp port 2051 or port 2048 or udp port 2017)",
    ]

    @Test("split programs are no longer than libpcap's and keep its packets, cut ones too")
    func splitAgreement() throws {
        guard let compared = try LongChainTests.compareWithLibpcap(Self.splitFinds, skippingRefused: true) else { return }
        // The first needs a broadcast link: Ethernet only; the others compile everywhere.
        #expect(compared == 1 + 2 * FilterLinkType.allCases.count)
    }

    /// Once longer than libpcap's by one on every link type: a chain sharing both exits
    /// (`tcp[13] & 2 != 0 and not dst port 443`) that tests the value A holds on the way in
    /// after its head, regrouped so that it tests it first, as libpcap's program does
    /// (`GraphOptimizer.groupChains`; a random find, 23 instructions on Ethernet before).
    static let mixedChainFinds = [
        "not ((not tcp or (not host 10.0.0.1 and not (portrange 1000-2000 and not host 10.0.0.1)) and (tcp[13] & 2 != 0 and not dst port 443)))",
    ]

    @Test("chains sharing both exits: no longer than libpcap's, and its packets kept, cut ones too")
    func mixedChainAgreement() throws {
        guard let compared = try LongChainTests.compareWithLibpcap(Self.mixedChainFinds, skippingRefused: true) else { return }
        #expect(compared == FilterLinkType.allCases.count)
    }

    /// Once longer than libpcap's by one: IPv4's `jeq #17` on the protocol byte A holds is
    /// the tail of IPv6's `ldb [54]; jeq #17` after the fragment header, with the same
    /// targets; laid out once, its predecessors jumping past the load (`CodeEmitter.shareCode`;
    /// a random find, 29 instructions on Ethernet and Linux cooked captures before).
    static let sharedTailFinds = ["(tcp and host 10.0.0.1) or udp or tcp port 80"] + earlierTailFinds.map(\.expression)

    @Test("code that ends as another test's is laid out once: no longer than libpcap's, its packets kept")
    func sharedTailAgreement() throws {
        guard let compared = try LongChainTests.compareWithLibpcap(Self.sharedTailFinds, skippingRefused: true) else { return }
        #expect(compared == Self.sharedTailFinds.count * FilterLinkType.allCases.count)
    }

    /// Where the rules once kept packets cut short that the program without them dropped:
    /// a test dropped after a hoist (a cut IPv4 packet skipped the port load), after a merge
    /// (a cut IPv6 TCP packet on a Linux cooked capture) and after an exit sent back made
    /// the two multicast tests one, leaving the SYN test's exits on it (a cut IPv4 TCP
    /// packet skipped the flags' load), all random finds.
    static let cutPacketFinds = [
        "(host 10.0.0.1 or dst port 443) and dst host 192.1.2.23 and src net 192.168.0.0/16 or not tcp or ip broadcast",
        "(ip[6:2] & 0x1fff = 0 or ip6 host ::1 or udp port 53 or outbound or greater 1000) and not (port 53 or "
            + "(inbound or portrange 1000-2000) and (inbound and not portrange 1000-2000 or host 192.1.2.23))",
        "tcp[13] & 2 != 0 or not (ether multicast and not tcp port 22) and tcp and not ether multicast",
    ]

    /// Packets cut short are run at every length from 0 to the whole, for this many spread
    /// over the packets each program keeps whole.
    static let cutSample = 48

    /// The program, and whether a reshaping rule changed the graph (then `optimize` compiled
    /// it without them too, to check the cut packets).
    static func program(_ predicate: PredicateTree, reshaping: Bool) throws -> (code: [ClassicInstruction], checked: Bool) {
        var searches = BeyondSearches()
        let graph = GraphOptimizer.optimized(predicate, &searches, reshaping: reshaping)
        return (try CodeEmitter.emit(graph, snapshotLength: PacketFilter.defaultSnapshotLength, reuseRegisters: true), searches.reshaped)
    }

    /// The length of the shortest cut of `data` that `interpreter` keeps; cuts as long or
    /// longer are kept too.
    static func shortestKept(_ interpreter: ClassicInterpreter, _ data: [UInt8], _ wireLength: UInt32) -> Int {
        var (low, high) = (0, data.count)
        while low < high {
            let middle = (low + high) / 2
            if interpreter.run(packet: Array(data[..<middle]), wireLength: wireLength) != 0 { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Packets made from each sampled one with constants planted.
    static let variants = 16

    /// The constants `program` compares a fixed load with (`ld [k]`, maybe `and #m`, then
    /// `jeq/jgt/jge/jset #c`): writing one at its place makes a packet reach the tests after it.
    static func plantings(_ program: [ClassicInstruction]) -> [(offset: Int, size: Int, value: UInt32)] {
        var found: [(offset: Int, size: Int, value: UInt32)] = []
        var load: (offset: Int, size: Int)?
        for instruction in program {
            switch instruction {
            case .loadA(.packet(let size, let offset)): load = (Int(offset), size.byteCount)
            case .arithmetic(.and, .constant): break
            case .branch(_, .constant(let value), _, _):
                if let load { found.append((load.offset, load.size, value)) }
            default: load = nil
            }
        }
        return found
    }

    /// Writes `planting`'s constant big-endian at its place, where the packet is long enough.
    static func write(_ planting: (offset: Int, size: Int, value: UInt32), into data: inout [UInt8]) {
        guard planting.offset + planting.size <= data.count else { return }
        for i in 0..<planting.size {
            data[planting.offset + i] = UInt8(truncatingIfNeeded: planting.value >> (8 * UInt32(planting.size - 1 - i)))
        }
    }

    @Test("no longer than libpcap's optimized programs, on every link type")
    func libpcapLength() throws {
        guard let tcpdump = FilterTestSupport.tcpdump() else { return }
        var compared = 0
        for expression in Self.expressions {
            for linkType in FilterLinkType.allCases {
                guard case .program(let theirs) = FilterTestSupport.libpcap(tcpdump, expression, linkType) else { continue }
                let ours = try PacketFilter.compile(expression, linkType: linkType).instructions.count
                #expect(ours <= theirs.count, "-y \(linkType.dataLinkName) '\(expression)': \(ours) instructions, libpcap's \(theirs.count)")
                compared += 1
            }
        }
        print("reshaped filters vs libpcap: \(compared) programs compared")
        #expect(compared >= Self.expressions.count)
    }

    @Test("reshaped programs keep the packets the others keep, cut ones too, and are no longer")
    func sameVerdicts() throws {
        guard let corpus = FilterTestSupport.requireCorpus() else { return }
        var compiles = 0, reshaped = 0, shorter = 0, runs = 0, cutPackets = 0, cutRuns = 0, planted = 0, checks = 0
        let expressions = Self.expressions + PortLayoutTests.finds + Self.cutPacketFinds + Self.splitFinds
            + (Self.rejoinFinds + Self.switchFinds + Self.hoistFinds).map(\.expression) + BeyondPassTests.expressions
        try BeyondPassTests.forEachParsed(expressions, in: corpus) { linkType, expression, predicate, packets in
            compiles += 1
            let (new, checked) = try Self.program(predicate, reshaping: true)
            let old = try Self.program(predicate, reshaping: false).code
            if checked { checks += 1 }
            guard new != old else { return }
            reshaped += 1
            #expect(new.count <= old.count, "-y \(linkType.dataLinkName) '\(expression)': \(new.count) instructions, \(old.count) before")
            if new.count < old.count { shorter += 1 }
            let before = ClassicInterpreter(program: try ClassicProgram(old))
            let after = ClassicInterpreter(program: try ClassicProgram(new))
            func differs(_ data: ArraySlice<UInt8>, _ wireLength: UInt32) -> Bool {
                let bytes = Array(data)
                return (after.run(packet: bytes, wireLength: wireLength) != 0) != (before.run(packet: bytes, wireLength: wireLength) != 0)
            }
            let differing = packets.filter { differs($0.data[...], $0.wireLength) }.count
            runs += packets.count
            #expect(differing == 0, "-y \(linkType.dataLinkName) '\(expression)': \(differing) packets differ")
            // A cut takes its whole packet's way until a load past its end rejects it, so only
            // packets kept whole may differ cut, and each is kept from one length on: the
            // shortest kept cut, found by halving, must be the same; and every cut of a sample.
            let kept = packets.filter { before.run(packet: $0.data, wireLength: $0.wireLength) != 0 }
            let shortestDiffering = kept.filter {
                Self.shortestKept(before, $0.data, $0.wireLength) != Self.shortestKept(after, $0.data, $0.wireLength)
            }.count
            cutPackets += kept.count
            #expect(shortestDiffering == 0, "-y \(linkType.dataLinkName) '\(expression)': \(shortestDiffering) packets kept from another cut")
            var cutsDiffering = 0
            for packet in stride(from: 0, to: kept.count, by: max(1, kept.count / Self.cutSample)).map({ kept[$0] }) {
                for length in 0...packet.data.count where differs(packet.data[..<length], packet.wireLength) {
                    cutsDiffering += 1
                }
                cutRuns += packet.data.count + 1
            }
            #expect(cutsDiffering == 0, "-y \(linkType.dataLinkName) '\(expression)': \(cutsDiffering) cut packets differ")
            // The corpus seldom holds the packets that reach deep tests (an address and a port
            // of the expression): the same with the program's constants written in.
            var random = FuzzTests.SplitMix(state: UInt64(compiles))
            let plantings = Self.plantings(old)
            var plantedDiffering = 0
            for packet in stride(from: 0, to: packets.count, by: max(1, packets.count / Self.cutSample)).map({ packets[$0] }) {
                for _ in 0..<Self.variants {
                    var data = packet.data
                    for planting in plantings where random.next() & 1 == 0 {
                        Self.write(planting, into: &data)
                    }
                    let keptBefore = before.run(packet: data, wireLength: packet.wireLength) != 0
                    if keptBefore != (after.run(packet: data, wireLength: packet.wireLength) != 0)
                        || keptBefore && Self.shortestKept(before, data, packet.wireLength) != Self.shortestKept(after, data, packet.wireLength) {
                        plantedDiffering += 1
                    }
                    planted += 1
                }
            }
            #expect(plantedDiffering == 0, "-y \(linkType.dataLinkName) '\(expression)': \(plantedDiffering) planted packets or their cuts differ")
        }
        print("merging, hoisting and threading after regrouping: \(reshaped) of \(compiles) compiles changed, \(shorter) shorter, "
            + "\(checks) checked against the graph without them; "
            + "\(runs) whole packets, \(cutPackets) kept ones' shortest kept cuts, \(cutRuns) cuts of a sample and \(planted) packets with constants planted compared")
        // Otherwise the comparison shows nothing.
        #expect(reshaped > 10, "only \(reshaped) compiles changed")
    }
}
