import ClassicBPF
@testable import PacketFilter
import Testing

/// The optimizer skips a `.beyond` pass, or its searches, where no search can find anything;
/// the programs must be those of an optimizer that always searches.
@Suite("Skipping fruitless searches past undecided tests")
struct BeyondPassTests {
    /// The agreement and refusal tests' expressions, and random and/or/not combinations of them.
    static var expressions: [String] {
        let base = AgreementTests.expressions + RefusalTests.expressions + GraphEditTests.expressions
        var random = FuzzTests.SplitMix(state: 0xbe70_0d)
        // A second `.decided` pass changes edges that the first left in a shared graph:
        // the optimizer must not take the first for settled there.
        var combined = base + ["(ip or not tcp or len > 100)", "(ip6 or (udp or not ip multicast) and ip[8] > 60)",
                               "(ether[12:2] = 0x800 or not port 80) or tcp[13] & 2 != 0 or (ether broadcast or host 192.1.2.23)"]
        for _ in 0..<1500 {
            func pick() -> String { base.randomElement(using: &random) ?? "ip" }
            let (a, b) = (pick(), pick())
            switch Int.random(in: 0..<4, using: &random) {
            case 0: combined.append("(\(a)) and (\(b))")
            case 1: combined.append("(\(a)) or (\(b))")
            case 2: combined.append("not (\(a)) and (\(b))")
            default: combined.append("(\(a)) or not (\(b)) and (\(pick()))")
            }
        }
        return combined
    }

    /// Calls `body` with each of `expressions` parsed for each link type it parses for, and
    /// the corpus's packets of that link type.
    static func forEachParsed(_ expressions: [String], in corpus: (files: [FilterTestSupport.CaptureFile], skipped: Int),
                              _ body: (FilterLinkType, String, PredicateTree, [(data: [UInt8], wireLength: UInt32)]) throws -> Void) rethrows {
        for linkType in FilterLinkType.allCases {
            let packets = corpus.files.filter { $0.linkType == linkType }.flatMap(\.packets)
            for expression in expressions {
                guard let predicate = try? FilterParser.parse(expression, linkType: linkType) else { continue }
                try body(linkType, expression, predicate, packets)
            }
        }
    }

    static func program(_ predicate: PredicateTree, skipping: Bool) throws -> (code: [ClassicInstruction], skipped: Bool) {
        // Without the searches that follow ways apart, which run only in passes not skipped.
        var searches = BeyondSearches(skippingFruitless: skipping, followingWays: false)
        let graph = GraphOptimizer.optimized(predicate, &searches)
        return (try CodeEmitter.emit(graph, snapshotLength: PacketFilter.defaultSnapshotLength, reuseRegisters: true), searches.skipped)
    }

    @Test("programs with the searches skipped are those of searching everywhere")
    func sameProgram() throws {
        var compared = 0, skipped = 0
        for expression in Self.expressions {
            for linkType in FilterLinkType.allCases {
                guard let predicate = try? FilterParser.parse(expression, linkType: linkType) else { continue }
                let fast = try Self.program(predicate, skipping: true)
                let searched = try Self.program(predicate, skipping: false)
                #expect(fast.code == searched.code, "\(expression) on \(linkType)")
                compared += 1
                if fast.skipped { skipped += 1 }
            }
        }
        print("searches past undecided tests: \(compared) compiles compared, \(skipped) skipped a pass")
        #expect(compared > 1000)
        // Otherwise the comparison shows nothing about the skip.
        #expect(skipped > 100, "only \(skipped) of \(compared) compiles skipped a pass")
    }
}
