import ClassicBPF
@testable import PacketFilter
import Testing

/// Following each way apart (`WaySearch`) must not change which packets a filter keeps: on
/// random combinations where it changed an edge, its program and the one without it are
/// run over the corpus's packets of the link type.
@Suite("Following ways apart")
struct WaySearchTests {
    static func program(_ predicate: PredicateTree, followingWays: Bool) throws -> (code: [ClassicInstruction], followed: Bool) {
        var searches = BeyondSearches(followingWays: followingWays)
        let graph = GraphOptimizer.optimized(predicate, &searches)
        return (try CodeEmitter.emit(graph, snapshotLength: PacketFilter.defaultSnapshotLength, reuseRegisters: true),
                searches.followedWays)
    }

    @Test("programs that follow ways apart keep the packets the others keep")
    func sameVerdicts() throws {
        guard let corpus = FilterTestSupport.requireCorpus() else { return }
        var followed = 0, shorter = 0, runs = 0, runtDifferences = 0
        try BeyondPassTests.forEachParsed(BeyondPassTests.expressions, in: corpus) { linkType, expression, predicate, packets in
            let ways = try Self.program(predicate, followingWays: true)
            guard ways.followed else { return }
            let plain = try Self.program(predicate, followingWays: false).code
            followed += 1
            if ways.code.count < plain.count { shorter += 1 }
            let theirs = ClassicInterpreter(program: try ClassicProgram(plain))
            let ours = ClassicInterpreter(program: try ClassicProgram(ways.code))
            var differing = 0
            for packet in packets {
                runs += 1
                let keep = ours.run(packet: packet.data, wireLength: packet.wireLength) != 0
                guard keep != (theirs.run(packet: packet.data, wireLength: packet.wireLength) != 0) else { continue }
                // A load skipped to a test (never to the accept) keeps a packet too short for it.
                if keep, AgreementTests.keptWhenLongEnough(theirs, packet.data, wireLength: packet.wireLength) {
                    runtDifferences += 1
                    continue
                }
                differing += 1
            }
            #expect(differing == 0, "-y \(linkType.dataLinkName) '\(expression)': \(differing) packets differ")
        }
        print("following ways apart: \(followed) compiles changed by it, \(shorter) of them shorter; \(runs) runs compared, "
              + "\(runtDifferences) runt packets kept only for a load skipped")
        // Otherwise the comparison shows nothing.
        #expect(followed > 20, "only \(followed) compiles followed ways apart")
    }

    /// Once longer than libpcap's programs (49 and 61 instructions on Ethernet, libpcap's 43
    /// and 54): libpcap compiles `port` once per protocol, so after the UDP test it knows an
    /// IPv6 UDP packet is kept whatever its ports, and drops their loads. Our port tests are
    /// shared by the protocols; a search that follows each way, deciding tests as libpcap's
    /// optimizer does, finds that accept, and only then are the loads skipped.
    static let portLoadsSkipped = [
        "(ip[8] > 60 or not esp and not port 53 or src net 192.168.0.0/16 or udp port 53)",
        "(not port 80 or tcp port 80 or tcp[13] & 2 != 0 or ether multicast) or (port 53 or (ip[8] > 60 and stp))",
    ]

    @Test("port loads skipped where libpcap's are: no longer, the same packets kept, cut ones too")
    func portLoadsSkippedAsLibpcapDoes() throws {
        guard let tcpdump = FilterTestSupport.tcpdump() else { return }
        guard let corpus = FilterTestSupport.requireCorpus() else { return }
        var compared = 0, runs = 0
        for expression in Self.portLoadsSkipped {
            for linkType in FilterLinkType.allCases {
                guard case .program(let raw) = FilterTestSupport.libpcap(tcpdump, expression, linkType) else { continue }
                let ours = try PacketFilter.compile(expression, linkType: linkType)
                let label = "-y \(linkType.dataLinkName) '\(expression)'"
                #expect(ours.instructions.count <= raw.count, "\(label): \(ours.instructions.count) instructions, libpcap's \(raw.count)")
                compared += 1
                let mine = ClassicInterpreter(program: ours)
                let theirs = ClassicInterpreter(program: try ClassicProgram(raw))
                // Kept alike whole, and from the same cut on.
                func differs(_ data: [UInt8], _ wireLength: UInt32) -> Bool {
                    runs += 1
                    let keep = mine.run(packet: data, wireLength: wireLength) != 0
                    return keep != (theirs.run(packet: data, wireLength: wireLength) != 0)
                        || keep && ReshapingTests.shortestKept(mine, data, wireLength) != ReshapingTests.shortestKept(theirs, data, wireLength)
                }
                let packets = corpus.files.filter { $0.linkType == linkType }.flatMap(\.packets)
                let differing = packets.filter { differs($0.data, $0.wireLength) }.count
                #expect(differing == 0, "\(label): \(differing) of \(packets.count) packets or their cuts kept differently")
                // Few packets of the corpus reach the port tests: some with the constants written in.
                var random = FuzzTests.SplitMix(state: UInt64(compared))
                let plantings = ReshapingTests.plantings(ours.instructions)
                var plantedDiffering = 0
                for packet in stride(from: 0, to: packets.count, by: max(1, packets.count / ReshapingTests.cutSample)).map({ packets[$0] }) {
                    for _ in 0..<ReshapingTests.variants {
                        var data = packet.data
                        for planting in plantings where random.next() & 1 == 0 { ReshapingTests.write(planting, into: &data) }
                        if differs(data, packet.wireLength) { plantedDiffering += 1 }
                    }
                }
                #expect(plantedDiffering == 0, "\(label): \(plantedDiffering) planted packets or their cuts kept differently")
            }
        }
        print("port loads skipped as libpcap does: \(compared) programs compared with libpcap's, \(runs) runs")
        #expect(compared >= Self.portLoadsSkipped.count)
    }
}
