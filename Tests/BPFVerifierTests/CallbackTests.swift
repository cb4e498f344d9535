#if os(Linux)
import BPFInstructions
import BPFObject
import BPFVerifier
import Foundation
import Testing

/// Callbacks (bpf_loop, bpf_for_each_map_elem): the programs of Fixtures/callbacks.bpf.c, built
/// by clang, get the verdicts the kernel gives them (KernelAgreementTests checks those against
/// the kernel itself), and the refusals say why.
@Suite struct CallbackTests {
    static func object() throws -> ObjectFile {
        try KernelAgreementTests.compile(KernelAgreementTests.fixtureDirectories[0].appendingPathComponent("callbacks.bpf.c"))
    }

    static func verdict(_ name: String, in object: ObjectFile) throws -> Result<VerifiedProgram, Rejection> {
        let spec = try #require(object.programs.first { $0.name == name })
        return Result { () throws(Rejection) in try Verifier.verify(spec, maps: object.maps) }
    }

    @Test(arguments: ["loop_sum", "loop_map", "loop_nested_count", "each_array", "each_hash", "loop_flags"])
    func acceptsCorrectCallbacks(_ name: String) throws {
        let object = try Self.object()
        if case .failure(let rejection) = try Self.verdict(name, in: object) {
            Issue.record("\(name) refused: \(rejection)")
        }
    }

    @Test(arguments: [
        ("loop_returns_two", Rejection.Kind.invalidReturn, "return 0 or 1"),
        ("loop_returns_index", .invalidReturn, "return 0 or 1"),
        ("each_reads_past_key", .invalidMemoryAccess, "4-byte key of map slots"),
        ("each_writes_key", .invalidMemoryAccess, "read-only"),
    ])
    func refusesWrongCallbacks(_ name: String, _ kind: Rejection.Kind, _ words: String) throws {
        let object = try Self.object()
        guard case .failure(let rejection) = try Self.verdict(name, in: object) else {
            Issue.record("\(name) accepted")
            return
        }
        #expect(rejection.kind == kind, "\(rejection)")
        #expect(rejection.message.contains(words), "\(rejection.message)")
    }

    @Test func callbackArgumentMustBeAFunction() throws {
        let program = try Assembler.assemble("""
            r1 = 4
            r2 = 0
            r3 = 0
            r4 = 0
            call 181
            r0 = 0
            exit
            """)
        let error = try #require(throws: Rejection.self) { try Verifier.verify(program, as: .kernel(.socketFilter)) }
        #expect(error.index == 4)
        #expect(error.message.contains("argument 2 (r2) of bpf_loop must be a callback"), "\(error.message)")
    }

    /// After bpf_loop, the count its callback bumps may be that of any number of runs up to
    /// the loop's constant count, or any number when the count is not constant.
    @Test func callerStateCoversEveryNumberOfRuns() throws {
        let object = try Self.object()
        if case .failure(let rejection) = try Self.verdict("loop_count_bounded", in: object) {
            Issue.record("loop_count_bounded refused: \(rejection)")
        }
        for name in ["loop_count_past_value", "loop_count_unknown"] {
            guard case .failure(let rejection) = try Self.verdict(name, in: object) else {
                Issue.record("\(name) accepted")
                continue
            }
            #expect(rejection.kind == .invalidPointerArithmetic || rejection.kind == .invalidMemoryAccess, "\(name): \(rejection)")
        }
    }
}
#endif
