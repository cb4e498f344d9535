import ClassicBPF
@testable import PacketFilter
import Testing

/// Following each way apart (`WaySearch`) must not change which packets a filter keeps: on
/// random combinations where it changed an edge, its program and the one without it are
/// run over the corpus's packets of the link type.
@Suite("Following ways apart")
struct WaySearchTests {
    /// The program, whether following ways apart changed it, and whether the compiler would
    /// run the optimizer again without (as `PacketFilter.program` decides).
    static func program(_ predicate: PredicateTree, followingWays: Bool) throws -> (code: [ClassicInstruction], followed: Bool, runsAgain: Bool) {
        var searches = BeyondSearches(followingWays: followingWays)
        let graph = GraphOptimizer.optimized(predicate, &searches)
        let code = try CodeEmitter.emit(graph, snapshotLength: PacketFilter.defaultSnapshotLength, reuseRegisters: true)
        return (code, searches.followedWays, PacketFilter.mayBeShorterWithoutFollowingWays(code, searches))
    }

    @Test("programs that follow ways apart keep the packets the others keep")
    func sameVerdicts() throws {
        guard let corpus = FilterTestSupport.requireCorpus() else { return }
        var followed = 0, shorter = 0, runs = 0, runtDifferences = 0, testedTwice = 0
        try BeyondPassTests.forEachParsed(BeyondPassTests.expressions, in: corpus) { linkType, expression, predicate, packets in
            let ways = try Self.program(predicate, followingWays: true)
            guard ways.followed else { return }
            let plain = try Self.program(predicate, followingWays: false).code
            followed += 1
            if ways.code.count < plain.count { shorter += 1 }
            // The compiler runs the optimizer again without following ways only where a test
            // is laid out twice, or was before a switch was reordered: elsewhere that run must
            // not be shorter.
            if ways.runsAgain {
                testedTwice += 1
            } else {
                #expect(plain.count >= ways.code.count,
                        "-y \(linkType.dataLinkName) '\(expression)': \(plain.count) without following ways, \(ways.code.count) with")
            }
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
        print("following ways apart: \(followed) compiles changed by it, \(shorter) of them shorter, \(testedTwice) lay a test out twice; "
              + "\(runs) runs compared, \(runtDifferences) runt packets kept only for a load skipped")
        // Otherwise the comparison shows nothing.
        #expect(followed > 20, "only \(followed) compiles followed ways apart")
    }

    /// Where following ways apart laid a test out twice and the run without it is shorter,
    /// the compiler keeps that one: a test on IPv4's fragment field copied for TCP and UDP.
    @Test("the program without following ways is kept where it is shorter")
    func secondRunKept() throws {
        for (expression, length) in [("port 80 and ether multicast and not portrange 1000-2000 or tcp port 80 or not dst port 443", 38),
                                     ("icmp or (dst port 443 or not (udp or udp port 53)) and port 53", 30)] {
            let predicate = try FilterParser.parse(expression, linkType: .ethernet).decidingRepeats()
            let ways = try Self.program(predicate, followingWays: true)
            #expect(ways.followed && ways.runsAgain && ways.code.count > length, "'\(expression)'")
            #expect(try PacketFilter.compile(expression).instructions.count == length, "'\(expression)'")
        }
        #expect(!PacketFilter.testsTwice(try PacketFilter.compile("tcp port 80").instructions))
    }
}
