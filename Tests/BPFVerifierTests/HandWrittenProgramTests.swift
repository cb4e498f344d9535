import BPFInstructions
import BPFVerifier
import Testing

/// The hand-written corpus (Fixtures/programs): each program gets the verdict its header
/// states, and rejections explain themselves.
@Suite struct HandWrittenProgramTests {
    @Test func everyProgramGetsItsStatedVerdict() throws {
        let corpus = try CorpusProgram.all()
        #expect(corpus.count >= 40)
        var accepted = 0, rejected = 0
        for entry in corpus {
            do {
                _ = try Verifier.verify(entry.program, as: .kernel(entry.type), maps: entry.mapInfo)
                accepted += 1
                #expect(entry.expectsAcceptance, "\(entry.name) (\(entry.checks)) was accepted")
            } catch {
                rejected += 1
                #expect(!entry.expectsAcceptance, "\(entry.name) (\(entry.checks)) was rejected: \(error)")
                #expect(!error.message.isEmpty)
            }
        }
        print("hand-written corpus: \(accepted) accepted, \(rejected) rejected")
    }

    @Test func uncheckedLookupNamesTheHelperAndThePath() throws {
        let program = try Assembler.assemble("""
            r6 = r1
            r1 = 0
            *(u32 *)(r10 - 4) = r1
            r1 = *(u32 *)(r6 + 0)
            if r1 > 5 goto +7
            r2 = r10
            r2 += -4
            r1 = map[idx:0]
            call 1
            r0 = *(u64 *)(r0 + 0)
            exit
            r0 = 0
            exit
            """, syntax: .kernel)
        let maps: [Int32: MapInfo] = [0: MapInfo(name: "counts", type: .array, keySize: 4, valueSize: 8)]
        let error = try #require(throws: Rejection.self) { try Verifier.verify(program, as: .kernel(.socketFilter), maps: maps) }
        #expect(error.kind == .possiblyNull)
        #expect(error.index == 10)
        #expect(error.instruction == "r0 = *(u64 *)(r0 + 0)")
        #expect(error.message == "r0 may be NULL here; check it before using it")
        #expect(error.facts.first?.contains("map_lookup_elem at 9") == true, "\(error.facts)")
        #expect(error.pathText == "4 → 5 → 10", "\(error.pathText)")
    }

    @Test func statisticsAndStateLog() throws {
        let program = try Assembler.assemble("""
            r0 = 0
            r1 = 0
            r0 += r1
            r1 += 1
            if r1 < 10 goto -3
            exit
            """, syntax: .kernel)
        let verified = try Verifier.verify(program, as: .kernel(.socketFilter), options: .init(recordsStates: true))
        // 2 + 10 iterations of 3 + the exit.
        #expect(verified.statistics.instructionsAnalysed == 33)
        // States at the loop head (10 visits); the branch, 2 steps after it, is too close to record.
        #expect(verified.statistics.states == 10)
        #expect(verified.stateLog.count == 33)
        #expect(verified.stateLog.last?.state.contains("r0=scalar(45)") == true, "\(verified.stateLog.last?.state ?? "")")
    }

    @Test func complexityLimitStopsUnboundedWork() throws {
        let program = try Assembler.assemble("""
            r0 = 0
            r1 = *(u32 *)(r1 + 0)
            r1 += -1
            if r1 != 0 goto -2
            exit
            """, syntax: .kernel)
        let error = try #require(throws: Rejection.self) {
            try Verifier.verify(program, as: .kernel(.socketFilter), options: .init(complexityLimit: 5_000))
        }
        #expect(error.kind == .tooComplex || error.kind == .infiniteLoop)
    }
}
