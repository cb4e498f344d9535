import BPFInstructions
import Testing

/// Every instruction form, with its exact text in both syntaxes: the disassembler must print
/// that text and the assembler must read it back to the same instruction.
struct InstructionSyntaxTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var instruction: Instruction
        var conformance: String
        var kernel: String
        var testDescription: String { kernel }
    }

    static let cases: [Case] = arithmeticCases + memoryCases + controlCases

    static let arithmeticCases: [Case] = [
        Case(instruction: .arithmetic(.add, .bits64, dst: .r1, source: .register(.r2)), conformance: "add %r1, %r2", kernel: "r1 += r2"),
        Case(instruction: .arithmetic(.add, .bits64, dst: .r1, source: .immediate(-5)), conformance: "add %r1, -5", kernel: "r1 += -5"),
        Case(instruction: .arithmetic(.add, .bits32, dst: .r0, source: .immediate(1)), conformance: "add32 %r0, 1", kernel: "w0 += 1"),
        Case(instruction: .arithmetic(.sub, .bits64, dst: .r3, source: .immediate(7)), conformance: "sub %r3, 7", kernel: "r3 -= 7"),
        Case(instruction: .arithmetic(.sub, .bits32, dst: .r3, source: .register(.r4)), conformance: "sub32 %r3, %r4", kernel: "w3 -= w4"),
        Case(instruction: .arithmetic(.mul, .bits64, dst: .r3, source: .register(.r4)), conformance: "mul %r3, %r4", kernel: "r3 *= r4"),
        Case(instruction: .arithmetic(.mul, .bits32, dst: .r3, source: .immediate(3)), conformance: "mul32 %r3, 3", kernel: "w3 *= 3"),
        Case(instruction: .arithmetic(.div, .bits64, dst: .r3, source: .immediate(3)), conformance: "div %r3, 3", kernel: "r3 /= 3"),
        Case(instruction: .arithmetic(.div, .bits32, dst: .r3, source: .register(.r9)), conformance: "div32 %r3, %r9", kernel: "w3 /= w9"),
        Case(instruction: .arithmetic(.sdiv, .bits64, dst: .r1, source: .immediate(3)), conformance: "sdiv %r1, 3", kernel: "r1 s/= 3"),
        Case(instruction: .arithmetic(.sdiv, .bits32, dst: .r1, source: .register(.r2)), conformance: "sdiv32 %r1, %r2", kernel: "w1 s/= w2"),
        Case(instruction: .arithmetic(.or, .bits64, dst: .r0, source: .register(.r10)), conformance: "or %r0, %r10", kernel: "r0 |= r10"),
        Case(instruction: .arithmetic(.or, .bits32, dst: .r0, source: .immediate(0x10)), conformance: "or32 %r0, 16", kernel: "w0 |= 16"),
        Case(instruction: .arithmetic(.and, .bits64, dst: .r0, source: .immediate(255)), conformance: "and %r0, 255", kernel: "r0 &= 255"),
        Case(instruction: .arithmetic(.and, .bits32, dst: .r0, source: .register(.r1)), conformance: "and32 %r0, %r1", kernel: "w0 &= w1"),
        Case(instruction: .arithmetic(.lsh, .bits64, dst: .r2, source: .immediate(32)), conformance: "lsh %r2, 32", kernel: "r2 <<= 32"),
        Case(instruction: .arithmetic(.lsh, .bits32, dst: .r2, source: .register(.r3)), conformance: "lsh32 %r2, %r3", kernel: "w2 <<= w3"),
        Case(instruction: .arithmetic(.rsh, .bits64, dst: .r2, source: .register(.r3)), conformance: "rsh %r2, %r3", kernel: "r2 >>= r3"),
        Case(instruction: .arithmetic(.rsh, .bits32, dst: .r2, source: .immediate(4)), conformance: "rsh32 %r2, 4", kernel: "w2 >>= 4"),
        Case(instruction: .arithmetic(.mod, .bits64, dst: .r5, source: .immediate(10)), conformance: "mod %r5, 10", kernel: "r5 %= 10"),
        Case(instruction: .arithmetic(.mod, .bits32, dst: .r5, source: .register(.r6)), conformance: "mod32 %r5, %r6", kernel: "w5 %= w6"),
        Case(instruction: .arithmetic(.smod, .bits64, dst: .r1, source: .register(.r2)), conformance: "smod %r1, %r2", kernel: "r1 s%= r2"),
        Case(instruction: .arithmetic(.smod, .bits32, dst: .r1, source: .immediate(-3)), conformance: "smod32 %r1, -3", kernel: "w1 s%= -3"),
        Case(instruction: .arithmetic(.xor, .bits64, dst: .r7, source: .register(.r8)), conformance: "xor %r7, %r8", kernel: "r7 ^= r8"),
        Case(instruction: .arithmetic(.xor, .bits32, dst: .r7, source: .immediate(-1)), conformance: "xor32 %r7, -1", kernel: "w7 ^= -1"),
        Case(instruction: .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(1)), conformance: "mov %r0, 1", kernel: "r0 = 1"),
        Case(instruction: .arithmetic(.mov, .bits64, dst: .r1, source: .register(.r2)), conformance: "mov %r1, %r2", kernel: "r1 = r2"),
        Case(instruction: .arithmetic(.mov, .bits32, dst: .r1, source: .register(.r2)), conformance: "mov32 %r1, %r2", kernel: "w1 = w2"),
        Case(instruction: .arithmetic(.mov, .bits32, dst: .r1, source: .immediate(Int32.min)), conformance: "mov32 %r1, -2147483648",
             kernel: "w1 = -2147483648"),
        Case(instruction: .arithmetic(.arsh, .bits64, dst: .r1, source: .immediate(3)), conformance: "arsh %r1, 3", kernel: "r1 s>>= 3"),
        Case(instruction: .arithmetic(.arsh, .bits32, dst: .r1, source: .register(.r2)), conformance: "arsh32 %r1, %r2", kernel: "w1 s>>= w2"),
        Case(instruction: .negate(.bits64, dst: .r0), conformance: "neg %r0", kernel: "r0 = -r0"),
        Case(instruction: .negate(.bits32, dst: .r4), conformance: "neg32 %r4", kernel: "w4 = -w4"),
        Case(instruction: .moveSignExtend(.bits64, dst: .r1, src: .r2, bits: 8), conformance: "movsx864 %r1, %r2", kernel: "r1 = (s8)r2"),
        Case(instruction: .moveSignExtend(.bits64, dst: .r1, src: .r2, bits: 16), conformance: "movsx1664 %r1, %r2", kernel: "r1 = (s16)r2"),
        Case(instruction: .moveSignExtend(.bits64, dst: .r1, src: .r2, bits: 32), conformance: "movsx3264 %r1, %r2", kernel: "r1 = (s32)r2"),
        Case(instruction: .moveSignExtend(.bits32, dst: .r1, src: .r2, bits: 8), conformance: "movsx832 %r1, %r2", kernel: "w1 = (s8)w2"),
        Case(instruction: .moveSignExtend(.bits32, dst: .r1, src: .r2, bits: 16), conformance: "movsx1632 %r1, %r2", kernel: "w1 = (s16)w2"),
        Case(instruction: .byteSwap(.toLittleEndian, bits: 16, dst: .r0), conformance: "le16 %r0", kernel: "r0 = le16 r0"),
        Case(instruction: .byteSwap(.toLittleEndian, bits: 32, dst: .r0), conformance: "le32 %r0", kernel: "r0 = le32 r0"),
        Case(instruction: .byteSwap(.toLittleEndian, bits: 64, dst: .r0), conformance: "le64 %r0", kernel: "r0 = le64 r0"),
        Case(instruction: .byteSwap(.toBigEndian, bits: 16, dst: .r3), conformance: "be16 %r3", kernel: "r3 = be16 r3"),
        Case(instruction: .byteSwap(.toBigEndian, bits: 32, dst: .r3), conformance: "be32 %r3", kernel: "r3 = be32 r3"),
        Case(instruction: .byteSwap(.toBigEndian, bits: 64, dst: .r3), conformance: "be64 %r3", kernel: "r3 = be64 r3"),
        Case(instruction: .byteSwap(.swap, bits: 16, dst: .r9), conformance: "bswap16 %r9", kernel: "r9 = bswap16 r9"),
        Case(instruction: .byteSwap(.swap, bits: 32, dst: .r9), conformance: "bswap32 %r9", kernel: "r9 = bswap32 r9"),
        Case(instruction: .byteSwap(.swap, bits: 64, dst: .r9), conformance: "bswap64 %r9", kernel: "r9 = bswap64 r9"),
    ]

    static let memoryCases: [Case] = [
        Case(instruction: .load(.byte, dst: .r0, base: .r1, offset: 2), conformance: "ldxb %r0, [%r1+2]", kernel: "r0 = *(u8 *)(r1 + 2)"),
        Case(instruction: .load(.half, dst: .r0, base: .r1, offset: 0), conformance: "ldxh %r0, [%r1+0]", kernel: "r0 = *(u16 *)(r1 + 0)"),
        Case(instruction: .load(.word, dst: .r0, base: .r10, offset: -4), conformance: "ldxw %r0, [%r10-4]", kernel: "r0 = *(u32 *)(r10 - 4)"),
        Case(instruction: .load(.double, dst: .r0, base: .r10, offset: -8), conformance: "ldxdw %r0, [%r10-8]",
             kernel: "r0 = *(u64 *)(r10 - 8)"),
        Case(instruction: .loadSignExtend(.byte, dst: .r0, base: .r1, offset: 2), conformance: "ldxsb %r0, [%r1+2]", kernel: "r0 = *(s8 *)(r1 + 2)"),
        Case(instruction: .loadSignExtend(.half, dst: .r0, base: .r1, offset: -32768), conformance: "ldxsh %r0, [%r1-32768]",
             kernel: "r0 = *(s16 *)(r1 - 32768)"),
        Case(instruction: .loadSignExtend(.word, dst: .r0, base: .r1, offset: 32767), conformance: "ldxsw %r0, [%r1+32767]",
             kernel: "r0 = *(s32 *)(r1 + 32767)"),
        Case(instruction: .store(.byte, base: .r1, offset: 0, source: .immediate(7)), conformance: "stb [%r1+0], 7", kernel: "*(u8 *)(r1 + 0) = 7"),
        Case(instruction: .store(.half, base: .r1, offset: 2, source: .immediate(-7)), conformance: "sth [%r1+2], -7", kernel: "*(u16 *)(r1 + 2) = -7"),
        Case(instruction: .store(.word, base: .r10, offset: -4, source: .immediate(1)), conformance: "stw [%r10-4], 1", kernel: "*(u32 *)(r10 - 4) = 1"),
        Case(instruction: .store(.double, base: .r10, offset: -8, source: .immediate(0)), conformance: "stdw [%r10-8], 0",
             kernel: "*(u64 *)(r10 - 8) = 0"),
        Case(instruction: .store(.byte, base: .r10, offset: -1, source: .register(.r1)), conformance: "stxb [%r10-1], %r1",
             kernel: "*(u8 *)(r10 - 1) = r1"),
        Case(instruction: .store(.half, base: .r10, offset: -2, source: .register(.r1)), conformance: "stxh [%r10-2], %r1",
             kernel: "*(u16 *)(r10 - 2) = r1"),
        Case(instruction: .store(.word, base: .r10, offset: -4, source: .register(.r1)), conformance: "stxw [%r10-4], %r1",
             kernel: "*(u32 *)(r10 - 4) = r1"),
        Case(instruction: .store(.double, base: .r10, offset: -8, source: .register(.r1)), conformance: "stxdw [%r10-8], %r1",
             kernel: "*(u64 *)(r10 - 8) = r1"),
        Case(instruction: .atomic(.add, .double, base: .r10, offset: -8, source: .r1), conformance: "lock add [%r10-8], %r1",
             kernel: "lock *(u64 *)(r10 - 8) += r1"),
        Case(instruction: .atomic(.or, .double, base: .r10, offset: -8, source: .r1), conformance: "lock or [%r10-8], %r1",
             kernel: "lock *(u64 *)(r10 - 8) |= r1"),
        Case(instruction: .atomic(.and, .double, base: .r10, offset: -8, source: .r1), conformance: "lock and [%r10-8], %r1",
             kernel: "lock *(u64 *)(r10 - 8) &= r1"),
        Case(instruction: .atomic(.xor, .double, base: .r10, offset: -8, source: .r1), conformance: "lock xor [%r10-8], %r1",
             kernel: "lock *(u64 *)(r10 - 8) ^= r1"),
        Case(instruction: .atomic(.add, .word, base: .r10, offset: -8, source: .r1), conformance: "lock add32 [%r10-8], %r1",
             kernel: "lock *(u32 *)(r10 - 8) += w1"),
        Case(instruction: .atomic(.xor, .word, base: .r2, offset: 4, source: .r3), conformance: "lock xor32 [%r2+4], %r3",
             kernel: "lock *(u32 *)(r2 + 4) ^= w3"),
        Case(instruction: .atomic(.fetchAdd, .double, base: .r10, offset: -8, source: .r1), conformance: "lock fetch add [%r10-8], %r1",
             kernel: "r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)"),
        Case(instruction: .atomic(.fetchOr, .double, base: .r10, offset: -8, source: .r1), conformance: "lock fetch or [%r10-8], %r1",
             kernel: "r1 = atomic_fetch_or((u64 *)(r10 - 8), r1)"),
        Case(instruction: .atomic(.fetchAnd, .word, base: .r10, offset: -8, source: .r1), conformance: "lock fetch and32 [%r10-8], %r1",
             kernel: "w1 = atomic_fetch_and((u32 *)(r10 - 8), w1)"),
        Case(instruction: .atomic(.fetchXor, .word, base: .r10, offset: -8, source: .r1), conformance: "lock fetch xor32 [%r10-8], %r1",
             kernel: "w1 = atomic_fetch_xor((u32 *)(r10 - 8), w1)"),
        Case(instruction: .atomic(.exchange, .double, base: .r10, offset: -8, source: .r1), conformance: "lock xchg [%r10-8], %r1",
             kernel: "r1 = xchg_64(r10 - 8, r1)"),
        Case(instruction: .atomic(.exchange, .word, base: .r10, offset: -8, source: .r1), conformance: "lock xchg32 [%r10-8], %r1",
             kernel: "w1 = xchg32_32(r10 - 8, w1)"),
        Case(instruction: .atomic(.compareExchange, .double, base: .r10, offset: -8, source: .r1), conformance: "lock cmpxchg [%r10-8], %r1",
             kernel: "r0 = cmpxchg_64(r10 - 8, r0, r1)"),
        Case(instruction: .atomic(.compareExchange, .word, base: .r1, offset: 0, source: .r2), conformance: "lock cmpxchg32 [%r1+0], %r2",
             kernel: "w0 = cmpxchg32_32(r1 + 0, w0, w2)"),
        Case(instruction: .loadAcquire(.byte, dst: .r0, base: .r1, offset: 0), conformance: "ldxacqb %r0, [%r1+0]",
             kernel: "r0 = load_acquire((u8 *)(r1 + 0))"),
        Case(instruction: .loadAcquire(.double, dst: .r2, base: .r1, offset: 8), conformance: "ldxacqdw %r2, [%r1+8]",
             kernel: "r2 = load_acquire((u64 *)(r1 + 8))"),
        Case(instruction: .storeRelease(.half, base: .r1, offset: -2, source: .r3), conformance: "stxrelh [%r1-2], %r3",
             kernel: "store_release((u16 *)(r1 - 2), r3)"),
        Case(instruction: .storeRelease(.word, base: .r1, offset: 4, source: .r3), conformance: "stxrelw [%r1+4], %r3",
             kernel: "store_release((u32 *)(r1 + 4), r3)"),
        Case(instruction: .loadImmediate64(dst: .r0, value: 0x1234_5678_9abc_def0), conformance: "lddw %r0, 0x123456789abcdef0",
             kernel: "r0 = 0x123456789abcdef0 ll"),
        Case(instruction: .loadImmediate64(dst: .r9, value: 0), conformance: "lddw %r9, 0x0", kernel: "r9 = 0x0 ll"),
        Case(instruction: .loadImmediate64(dst: .r1, source: .mapFD, imm: 5, nextImm: 0), conformance: "lddw %r1, map[fd:5]",
             kernel: "r1 = map[fd:5]"),
        Case(instruction: .loadImmediate64(dst: .r1, source: .mapIndex, imm: 2, nextImm: 0), conformance: "lddw %r1, map[idx:2]",
             kernel: "r1 = map[idx:2]"),
        Case(instruction: .loadImmediate64(dst: .r1, source: .mapValue, imm: 5, nextImm: 8), conformance: "lddw %r1, map_value[fd:5]+8",
             kernel: "r1 = map_value[fd:5]+8"),
        Case(instruction: .loadImmediate64(dst: .r1, source: .mapValue, imm: 5, nextImm: 0), conformance: "lddw %r1, map_value[fd:5]",
             kernel: "r1 = map_value[fd:5]"),
        Case(instruction: .loadImmediate64(dst: .r1, source: .mapIndexValue, imm: 0, nextImm: -1),
             conformance: "lddw %r1, map_value[idx:0]+4294967295", kernel: "r1 = map_value[idx:0]+4294967295"),
        Case(instruction: .loadImmediate64(dst: .r1, source: .btfID, imm: 1234, nextImm: 0), conformance: "lddw %r1, btf_var[id:1234]",
             kernel: "r1 = btf_var[id:1234]"),
        Case(instruction: .loadImmediate64(dst: .r1, source: .btfID, imm: 1234, nextImm: 7), conformance: "lddw %r1, btf_var[id:1234, fd:7]",
             kernel: "r1 = btf_var[id:1234, fd:7]"),
        Case(instruction: .loadImmediate64(dst: .r2, source: .function, imm: 1, nextImm: 0), conformance: "lddw %r2, func[+1]",
             kernel: "r2 = func[+1]"),
        Case(instruction: .loadPacket(.byte, index: nil, imm: 12), conformance: "ldabsb 12", kernel: "r0 = *(u8 *)skb[12]"),
        Case(instruction: .loadPacket(.half, index: nil, imm: 12), conformance: "ldabsh 12", kernel: "r0 = *(u16 *)skb[12]"),
        Case(instruction: .loadPacket(.word, index: nil, imm: -4), conformance: "ldabsw -4", kernel: "r0 = *(u32 *)skb[-4]"),
        Case(instruction: .loadPacket(.byte, index: .r1, imm: 14), conformance: "ldindb %r1, 14", kernel: "r0 = *(u8 *)skb[r1 + 14]"),
        Case(instruction: .loadPacket(.half, index: .r7, imm: -2), conformance: "ldindh %r7, -2", kernel: "r0 = *(u16 *)skb[r7 - 2]"),
        Case(instruction: .loadPacket(.word, index: .r2, imm: 0), conformance: "ldindw %r2, 0", kernel: "r0 = *(u32 *)skb[r2 + 0]"),
    ]

    static let controlCases: [Case] = [
        Case(instruction: .jump(offset: 2), conformance: "ja +2", kernel: "goto +2"),
        Case(instruction: .jump(offset: -3), conformance: "ja -3", kernel: "goto -3"),
        Case(instruction: .jump(offset: 0), conformance: "ja +0", kernel: "goto +0"),
        Case(instruction: .jumpLong(offset: 1), conformance: "ja32 +1", kernel: "gotol +1"),
        Case(instruction: .jumpLong(offset: -2), conformance: "ja32 -2", kernel: "gotol -2"),
        Case(instruction: .branch(.eq, .bits64, dst: .r1, source: .register(.r2), offset: 1), conformance: "jeq %r1, %r2, +1",
             kernel: "if r1 == r2 goto +1"),
        Case(instruction: .branch(.gt, .bits64, dst: .r1, source: .immediate(5), offset: 1), conformance: "jgt %r1, 5, +1",
             kernel: "if r1 > 5 goto +1"),
        Case(instruction: .branch(.ge, .bits32, dst: .r1, source: .immediate(5), offset: 1), conformance: "jge32 %r1, 5, +1",
             kernel: "if w1 >= 5 goto +1"),
        Case(instruction: .branch(.set, .bits64, dst: .r1, source: .immediate(16), offset: 1), conformance: "jset %r1, 16, +1",
             kernel: "if r1 & 16 goto +1"),
        Case(instruction: .branch(.set, .bits32, dst: .r1, source: .register(.r3), offset: 1), conformance: "jset32 %r1, %r3, +1",
             kernel: "if w1 & w3 goto +1"),
        Case(instruction: .branch(.ne, .bits64, dst: .r1, source: .register(.r0), offset: 3), conformance: "jne %r1, %r0, +3",
             kernel: "if r1 != r0 goto +3"),
        Case(instruction: .branch(.sgt, .bits64, dst: .r1, source: .immediate(-1), offset: -1), conformance: "jsgt %r1, -1, -1",
             kernel: "if r1 s> -1 goto -1"),
        Case(instruction: .branch(.sge, .bits32, dst: .r1, source: .register(.r2), offset: 0), conformance: "jsge32 %r1, %r2, +0",
             kernel: "if w1 s>= w2 goto +0"),
        Case(instruction: .branch(.lt, .bits64, dst: .r1, source: .immediate(2), offset: 1), conformance: "jlt %r1, 2, +1",
             kernel: "if r1 < 2 goto +1"),
        Case(instruction: .branch(.le, .bits32, dst: .r1, source: .immediate(2), offset: 1), conformance: "jle32 %r1, 2, +1",
             kernel: "if w1 <= 2 goto +1"),
        Case(instruction: .branch(.slt, .bits32, dst: .r1, source: .immediate(5), offset: -2), conformance: "jslt32 %r1, 5, -2",
             kernel: "if w1 s< 5 goto -2"),
        Case(instruction: .branch(.sle, .bits64, dst: .r1, source: .register(.r9), offset: 2), conformance: "jsle %r1, %r9, +2",
             kernel: "if r1 s<= r9 goto +2"),
        Case(instruction: .call(helper: 5), conformance: "call 5", kernel: "call 5"),
        Case(instruction: .call(helper: -1), conformance: "call -1", kernel: "call -1"),
        Case(instruction: .callLocal(offset: 2), conformance: "call local +2", kernel: "call pc+2"),
        Case(instruction: .callLocal(offset: -4), conformance: "call local -4", kernel: "call pc-4"),
        Case(instruction: .callKernelFunction(btfID: 1234, module: 0), conformance: "call kfunc[id:1234]", kernel: "call kfunc[id:1234]"),
        Case(instruction: .callKernelFunction(btfID: 99, module: 2), conformance: "call kfunc[id:99, module:2]",
             kernel: "call kfunc[id:99, module:2]"),
        Case(instruction: .callRegister(.r2), conformance: "call %r2", kernel: "callx r2"),
        Case(instruction: .exit, conformance: "exit", kernel: "exit"),
        Case(instruction: .mayGoto(offset: 2), conformance: "may_goto +2", kernel: "may_goto +2"),
        Case(instruction: .mayGoto(offset: -1), conformance: "may_goto -1", kernel: "may_goto -1"),
    ]

    /// Assembles `line` between exits, so jumps of a few slots either way stay inside the program.
    static func assembleAlone(_ line: String, _ syntax: AssemblySyntax) throws -> Instruction? {
        let padding = String(repeating: "exit\n", count: 4)
        let program = try Assembler.assemble(padding + line + "\n" + padding, syntax: syntax)
        return program.instructions.first { $0.index == 4 }?.instruction
    }

    @Test(arguments: cases)
    func conformanceText(_ testCase: Case) throws {
        #expect(Disassembler.text(of: testCase.instruction, syntax: .conformance) == testCase.conformance)
        #expect(try Self.assembleAlone(testCase.conformance, .conformance) == testCase.instruction)
    }

    @Test(arguments: cases)
    func kernelText(_ testCase: Case) throws {
        #expect(Disassembler.text(of: testCase.instruction, syntax: .kernel) == testCase.kernel)
        #expect(try Self.assembleAlone(testCase.kernel, .kernel) == testCase.instruction)
    }

    @Test func everyInstructionCaseIsCovered() {
        // One representative per enum case; a new case added to Instruction must get a row above.
        var seen = Set<String>()
        for testCase in Self.cases {
            let name = "\(testCase.instruction)".prefix { $0 != "(" }
            seen.insert(String(name))
        }
        #expect(seen == ["arithmetic", "negate", "moveSignExtend", "byteSwap", "load", "loadSignExtend", "store", "atomic",
                         "loadAcquire", "storeRelease", "loadImmediate64", "loadPacket", "jump", "jumpLong", "branch", "call",
                         "callLocal", "callKernelFunction", "callRegister", "exit", "mayGoto"])
    }

    /// Other spellings the assembler reads: the suite's aliases, llvm's and the kernel's variants.
    @Test(arguments: [
        ("add64 %r1, 2", AssemblySyntax.conformance, Instruction.arithmetic(.add, .bits64, dst: .r1, source: .immediate(2))),
        ("mov64 %r1, %r2", .conformance, .arithmetic(.mov, .bits64, dst: .r1, source: .register(.r2))),
        ("neg64 %r1", .conformance, .negate(.bits64, dst: .r1)),
        ("swap16 %r1", .conformance, .byteSwap(.swap, bits: 16, dst: .r1)),
        ("swap64 %r1", .conformance, .byteSwap(.swap, bits: 64, dst: .r1)),
        ("ldxh %r0, [%r1]", .conformance, .load(.half, dst: .r0, base: .r1, offset: 0)),
        ("ldxb %r0, [%r1+0x10]", .conformance, .load(.byte, dst: .r0, base: .r1, offset: 16)),
        ("mov32 %r0, 0xffffffff", .conformance, .arithmetic(.mov, .bits32, dst: .r0, source: .immediate(-1))),
        ("mov %r0, 0x80000000", .conformance, .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(Int32.min))),
        ("lddw %r0, 2147483648", .conformance, .loadImmediate64(dst: .r0, value: 2_147_483_648)),
        ("lddw %r0, -1", .conformance, .loadImmediate64(dst: .r0, value: UInt64.max)),
        ("lddw %r0, 18446744073709551615", .conformance, .loadImmediate64(dst: .r0, value: UInt64.max)),
        ("call helper 7", .conformance, .call(helper: 7)),
        ("call runtime 7", .conformance, .callKernelFunction(btfID: 7, module: 0)),
        ("callx %r3", .conformance, .callRegister(.r3)),
        ("lock fetch xchg [%r1+0], %r2", .conformance, .atomic(.exchange, .double, base: .r1, offset: 0, source: .r2)),
        ("MOV %r0, 1", .conformance, .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(1))),
        ("mov r0, 1", .conformance, .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(1))),
        ("r0 = 0x0", .kernel, .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(0))),
        ("r1 -= 0xa", .kernel, .arithmetic(.sub, .bits64, dst: .r1, source: .immediate(10))),
        ("if r1 > 0x2a goto +0x1 <L0>", .kernel, .branch(.gt, .bits64, dst: .r1, source: .immediate(42), offset: 1)),
        ("if r1 > 0x2a goto pc+1", .kernel, .branch(.gt, .bits64, dst: .r1, source: .immediate(42), offset: 1)),
        ("goto pc-1", .kernel, .jump(offset: -1)),
        ("r0 = *(u64 *)(r10 -8)", .kernel, .load(.double, dst: .r0, base: .r10, offset: -8)),
        ("r0 = *(u32 *)(r1)", .kernel, .load(.word, dst: .r0, base: .r1, offset: 0)),
        ("w0 = *(u32 *)(r1 + 0x4)", .kernel, .load(.word, dst: .r0, base: .r1, offset: 4)),
        ("*(u32 *)(r10 -4) = w1", .kernel, .store(.word, base: .r10, offset: -4, source: .register(.r1))),
        ("lock *(u32 *)(r10 - 8) += r1", .kernel, .atomic(.add, .word, base: .r10, offset: -8, source: .r1)),
        ("r1 = atomic64_fetch_add((u64 *)(r10 -8), r1)", .kernel, .atomic(.fetchAdd, .double, base: .r10, offset: -8, source: .r1)),
        ("r1 = atomic64_xchg((u64 *)(r10 -8), r1)", .kernel, .atomic(.exchange, .double, base: .r10, offset: -8, source: .r1)),
        ("r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r2)", .kernel, .atomic(.compareExchange, .double, base: .r10, offset: -8, source: .r2)),
        ("w0 = atomic_cmpxchg((u32 *)(r10 -8), w0, w2)", .kernel, .atomic(.compareExchange, .word, base: .r10, offset: -8, source: .r2)),
        ("r1 = xchg_64((r10 - 8), r1)", .kernel, .atomic(.exchange, .double, base: .r10, offset: -8, source: .r1)),
        ("w0 = load_acquire((u32 *)(r1 + 0))", .kernel, .loadAcquire(.word, dst: .r0, base: .r1, offset: 0)),
        ("r0 = -1 ll", .kernel, .loadImmediate64(dst: .r0, value: UInt64.max)),
        ("r0 = 4294967296 ll", .kernel, .loadImmediate64(dst: .r0, value: 1 << 32)),
        ("r1 = map[fd:3] ll", .kernel, .loadImmediate64(dst: .r1, source: .mapFD, imm: 3, nextImm: 0)),
        ("r1 = func[pc+1]", .kernel, .loadImmediate64(dst: .r1, source: .function, imm: 1, nextImm: 0)),
        ("r0 = *(u8 *)skb[r1]", .kernel, .loadPacket(.byte, index: .r1, imm: 0)),
        ("call bpf_map_lookup_elem#1", .kernel, .call(helper: 1)),
        ("call kernel-function#77", .kernel, .callKernelFunction(btfID: 77, module: 0)),
        ("r0 = 0;", .kernel, .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(0))),
        ("   7: (b7) r0 = 1", .kernel, .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(1))),
        ("   7:\tb7 00 00 00 01 00 00 00\tr0 = 0x1", .kernel, .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(1))),
        ("  12: (18) r1 = 0x1 ll", .kernel, .loadImmediate64(dst: .r1, value: 1)),
        ("  12: (18) r1 = 0xffff888003c5a000", .kernel, .loadImmediate64(dst: .r1, value: 0xffff_8880_03c5_a000)),
        ("r0 = 1 // a comment", .kernel, .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(1))),
        ("r0 = 1 # a comment", .kernel, .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(1))),
        ("mov %r0, 1 # a comment", .conformance, .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(1))),
        ("\tmov\t%r0 ,  1", .conformance, .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(1))),
    ])
    func alternativeSpelling(_ text: String, _ syntax: AssemblySyntax, _ expected: Instruction) throws {
        #expect(try Self.assembleAlone(text, syntax) == expected)
    }

    /// Listings as bpftool (`bpftool prog dump xlated`) and llvm-objdump print them reassemble as they are.
    @Test func bpftoolAndObjdumpListingsReassemble() throws {
        let bpftool = """
               0: (b7) r1 = 0
               1: (7b) *(u64 *)(r10 -8) = r1
               2: (bf) r2 = r10
               3: (07) r2 += -8
               4: (18) r1 = 0xffff9f8e0b5c1c00
               6: (85) call bpf_map_lookup_elem#1
               7: (15) if r0 == 0x0 goto pc+1
               8: (db) lock *(u64 *)(r0 +0) += r1
               9: (b7) r0 = 0
              10: (95) exit
            """
        let objdump = """
            0000000000000000 <prog>:
                   0:\tb7 01 00 00 00 00 00 00\tr1 = 0x0
                   1:\t7b 1a f8 ff 00 00 00 00\t*(u64 *)(r10 - 0x8) = r1
                   2:\tbf a2 00 00 00 00 00 00\tr2 = r10
                   3:\t07 02 00 00 f8 ff ff ff\tr2 += -0x8
                   4:\t18 01 00 00 00 1c 5c 0b 00 00 00 00 8e 9f ff ff\tr1 = -0x6071f4a3e400 ll
                   6:\t85 00 00 00 01 00 00 00\tcall 0x1
                   7:\t15 00 01 00 00 00 00 00\tif r0 == 0x0 goto +0x1 <LBB0_2>
                   8:\tdb 10 00 00 00 00 00 00\tlock *(u64 *)(r0 + 0x0) += r1

            0000000000000048 <LBB0_2>:
                   9:\tb7 00 00 00 00 00 00 00\tr0 = 0x0
                  10:\t95 00 00 00 00 00 00 00\texit
            """
        let expected = try Program([
            .arithmetic(.mov, .bits64, dst: .r1, source: .immediate(0)),
            .store(.double, base: .r10, offset: -8, source: .register(.r1)),
            .arithmetic(.mov, .bits64, dst: .r2, source: .register(.r10)),
            .arithmetic(.add, .bits64, dst: .r2, source: .immediate(-8)),
            .loadImmediate64(dst: .r1, value: 0xffff_9f8e_0b5c_1c00),
            .call(helper: 1),
            .branch(.eq, .bits64, dst: .r0, source: .immediate(0), offset: 1),
            .atomic(.add, .double, base: .r0, offset: 0, source: .r1),
            .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(0)),
            .exit,
        ])
        #expect(AssemblySyntax.detect(bpftool) == .kernel)
        #expect(AssemblySyntax.detect(objdump) == .kernel)
        #expect(try Assembler.assemble(bpftool) == expected)
        #expect(try Assembler.assemble(objdump) == expected)
    }

    @Test func labelsResolveForwardAndBackward() throws {
        let conformance = """
            # count down from 3
                mov %r0, 3
            loop:
                sub %r0, 1
                jne %r0, 0, loop   # back
                ja done
                lddw %r1, func[helper]
            done: exit
            helper:
                call local loop
                ja32 helper
                exit
            """
        let kernel = """
            // count down from 3
                r0 = 3
            loop:
                r0 -= 1
                if r0 != 0 goto loop  ; back
                goto done
                r1 = func[helper]
            done: exit
            helper:
                call loop
                gotol helper
                exit
            """
        let expected = try Program([
            .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(3)),
            .arithmetic(.sub, .bits64, dst: .r0, source: .immediate(1)),
            .branch(.ne, .bits64, dst: .r0, source: .immediate(0), offset: -2),
            .jump(offset: 2),
            .loadImmediate64(dst: .r1, source: .function, imm: 2, nextImm: 0),
            .exit,
            .callLocal(offset: -7),
            .jumpLong(offset: -2),
            .exit,
        ])
        #expect(try Assembler.assemble(conformance) == expected)
        #expect(try Assembler.assemble(kernel) == expected)
    }

    /// As in the suite's own assembler, `exit` as a jump target means the first `exit`
    /// unless a label of that name exists.
    @Test func conformanceExitLabel() throws {
        let implicit = try Assembler.assemble("jne %r0, 0, exit\nmov %r0, 1\nexit\nexit", syntax: .conformance)
        #expect(implicit.instructions[0].instruction == .branch(.ne, .bits64, dst: .r0, source: .immediate(0), offset: 1))
        let explicit = try Assembler.assemble("ja exit\nexit\nexit:\nexit", syntax: .conformance)
        #expect(explicit.instructions[0].instruction == .jump(offset: 1))
    }

    @Test(arguments: [
        ("store_release((u8 *)(r1 + 0), r3)", AssemblySyntax.kernel),
        ("goto +0\nexit", .kernel),
        ("call pc+1\nexit", .kernel),
        ("callx r1", .kernel),
        ("w1 s>>= 3", .kernel),
        ("r0 = *(u8 *)skb[1]", .kernel),
        ("*(u8 *)(r1 + 0) = 1", .kernel),
        ("lock *(u64 *)(r1 + 0) += r2", .kernel),
        ("  3: (95) exit\n  4: (05) goto pc-1", .kernel),
        ("ja +0\nexit", .conformance),
        ("call local +1\nexit", .conformance),
        ("call %r1", .conformance),
        ("ldabsb 1", .conformance),
        ("lddw %r0, 1", .conformance),
        ("# r0 = 1\nneg %r0  ; r0 = -r0", .conformance),
        ("exit", .conformance),
    ])
    func detectsSyntax(_ text: String, _ expected: AssemblySyntax) {
        #expect(AssemblySyntax.detect(text) == expected)
    }
}
