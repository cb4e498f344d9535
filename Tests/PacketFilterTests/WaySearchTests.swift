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
        guard let (compared, runs) = try LongChainTests.compareWithLibpcap(Self.portLoadsSkipped, planting: true) else { return }
        print("port loads skipped as libpcap does: \(compared) programs compared with libpcap's, \(runs) runs")
        #expect(compared >= Self.portLoadsSkipped.count)
    }
}
