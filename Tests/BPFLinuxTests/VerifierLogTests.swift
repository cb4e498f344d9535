#if os(Linux)
import BPFInstructions
@testable import BPFLinux
import BPFObject
import Testing

/// Reading verifier logs, CPU lists and object BTF without the kernel: exact answers on
/// the forms the kernel writes, and no crash on anything else.
@Suite struct VerifierLogTests {
    static let log = """
        func#0 @0
        0: R1=ctx() R10=fp0
        ; int unchecked(struct __sk_buff *skb) { @ verifier_reject.bpf.c:13
        0: (bf) r6 = r1                       ; R1=ctx() R6=ctx()
        7: (85) call bpf_map_lookup_elem#1    ; R0=map_value_or_null(id=1)
        ; *value += skb->len; @ verifier_reject.bpf.c:16
        8: (61) r1 = *(u32 *)(r6 +0)
        9: (79) r2 = *(u64 *)(r0 +0)
        R0 invalid mem access 'map_value_or_null'
        processed 9 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
        """

    @Test func findsTheLastInstructionTheVerifierChecked() {
        #expect(VerifierLog.failingInstructionIndex(in: Self.log) == 9)
        #expect(VerifierLog.failingInstructionIndex(in: "0: R1=ctx() R10=fp0\n12: R0=scalar()") == nil)
        #expect(VerifierLog.failingInstructionIndex(in: "") == nil)
        #expect(VerifierLog.failingInstructionIndex(in: "4: (b7) r0 = 0\n99999999999: (95) exit") == 4)
        #expect(VerifierLog.sourceComment(before: 9, in: Self.log) == "*value += skb->len; @ verifier_reject.bpf.c:16")
    }

    @Test func describesTheInstructionFromLineInfoOrTheLog() throws {
        let program = try Assembler.assemble("r0 = 0\nr1 = *(u64 *)(r0 + 0)\nexit", syntax: .kernel)
        let lines = [BTFExt.LineInfo(instructionOffset: 0, fileNameOffset: 0, lineOffset: 0, lineAndColumn: 5 << 10,
                                     fileName: "a.c", line: "    int x = 0;"),
                     BTFExt.LineInfo(instructionOffset: 8, fileNameOffset: 0, lineOffset: 0, lineAndColumn: 6 << 10 | 3,
                                     fileName: "a.c", line: "\treturn *p;")]
        let failing = VerifierLog.describe(instruction: 1, in: program.slots, lineInfo: lines)
        #expect(failing.index == 1)
        #expect(failing.disassembly == "r1 = *(u64 *)(r0 + 0)")
        #expect(failing.sourceLine == "a.c:6: return *p;")
        #expect(failing.description == "instruction 1: r1 = *(u64 *)(r0 + 0)\n  source: a.c:6: return *p;")
        let fromLog = VerifierLog.describe(instruction: 9, in: program.slots, lineInfo: [], log: Self.log)
        #expect(fromLog.disassembly == nil)
        #expect(fromLog.sourceLine == "*value += skb->len; @ verifier_reject.bpf.c:16")
    }

    @Test func neverCrashesOnArbitraryText() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["0", "12", ": ", "(", ")", "ff", "85", "\n", "; ", "R0=", " ", "x", "9999999999999999999"]
        for _ in 0..<2000 {
            var text = ""
            for _ in 0..<Int.random(in: 0...20, using: &generator) { text += pieces.randomElement(using: &generator) ?? "" }
            let index = VerifierLog.failingInstructionIndex(in: text)
            _ = VerifierLog.describe(instruction: index ?? Int.random(in: -5...5), in: [], lineInfo: [], log: text)
        }
    }

    @Test func countsPossibleCPUs() {
        #expect(PossibleCPUs.parse("0-1\n") == 2)
        #expect(PossibleCPUs.parse("0") == 1)
        #expect(PossibleCPUs.parse("0,2-5,7\n") == 6)
        for bad in ["", "\n", "a-b", "3-1", "0-", "-1", "0,,1", "1-2-3", "0-99999999"] {
            #expect(PossibleCPUs.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func objectNamesAreWhatTheKernelTakes() {
        #expect(string(fromCharacters: objectName("xdp_rewrite.rodata")) == "xdp_rewrite.rod")
        #expect(string(fromCharacters: objectName("a-b c/d")) == "a_b_c_d")
        #expect(string(fromCharacters: objectName("")) == "")
        #expect(string(fromCharacters: objectName("naïve")) == "na__ve")
    }

    @Test func malformedObjectBTFIsAnErrorNotACrash() throws {
        // A real object's BTF, cut and corrupted every way, must fix up or fail with a reason.
        let object = try KernelTests.object("xdp_rewrite")
        let fixed = try ObjectBTFFixup.fixed(object)
        #expect(fixed.count == object.btf?.bytes.count)
        let bytes = try #require(object.btf?.bytes)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var mutated = bytes
            for _ in 0..<4 { mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            if Bool.random(using: &generator) { mutated = Array(mutated.prefix(Int.random(in: 0..<mutated.count, using: &generator))) }
            _ = try? ObjectBTFFixup.fixedBytes(mutated, object: object)
        }
    }
}
#endif
