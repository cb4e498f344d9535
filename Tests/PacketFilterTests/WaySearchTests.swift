import ClassicBPF
@testable import PacketFilter
import Testing

/// Following each way apart (`WaySearch`) must not change which packets a filter keeps: on
/// random combinations where it changed an edge, its program and the one without it are
/// run over the corpus's packets of the link type.
@Suite("Following ways apart")
struct WaySearchTests {
    /// The program and whether following ways apart changed it.
    static func program(_ predicate: PredicateTree, followingWays: Bool) throws -> (code: [ClassicInstruction], followed: Bool) {
        var searches = BeyondSearches(followingWays: followingWays)
        let graph = GraphOptimizer.optimized(predicate, &searches)
        let code = try CodeEmitter.emit(graph, snapshotLength: PacketFilter.defaultSnapshotLength, reuseRegisters: true)
        return (code, searches.followedWays)
    }

    @Test("programs that follow ways apart keep the packets the others keep")
    func sameVerdicts() throws {
        guard let corpus = FilterTestSupport.requireCorpus() else { return }
        var followed = 0, shorter = 0, longer = 0, runs = 0, runtDifferences = 0
        try BeyondPassTests.forEachParsed(BeyondPassTests.expressions, in: corpus) { linkType, expression, predicate, packets in
            let ways = try Self.program(predicate, followingWays: true)
            guard ways.followed else { return }
            let plain = try Self.program(predicate, followingWays: false).code
            followed += 1
            if ways.code.count < plain.count { shorter += 1 }
            if ways.code.count > plain.count { longer += 1 }
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
        print("following ways apart: \(followed) compiles changed by it, \(shorter) of them shorter, \(longer) longer; "
              + "\(runs) runs compared, \(runtDifferences) runt packets kept only for a load skipped")
        // Otherwise the comparison shows nothing.
        #expect(followed > 20, "only \(followed) compiles followed ways apart")
    }
}
