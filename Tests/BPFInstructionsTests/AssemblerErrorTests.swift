import BPFInstructions
import Testing

/// Every kind of mistake gives one sentence at the right line and column.
struct AssemblerErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var text: String
        var syntax: AssemblySyntax
        var line: Int
        var column: Int
        var message: String
        var testDescription: String { text.debugDescription }
    }

    static let cases: [Case] = [
        // The conformance suite's negative tests.
        Case(text: "# out of range\nmov32 %r0, 2147483648\nexit", syntax: .conformance, line: 2, column: 12,
             message: "immediate 2147483648 does not fit in 32 bits"),
        Case(text: "mov32 %r0, 0x100000000\nexit", syntax: .conformance, line: 1, column: 12,
             message: "immediate 0x100000000 does not fit in 32 bits"),
        Case(text: "ja NOT_A_LABEL\nexit", syntax: .conformance, line: 1, column: 4, message: "label 'NOT_A_LABEL' is not defined"),
        Case(text: "lock or [%r10-8]\nexit", syntax: .conformance, line: 1, column: 17,
             message: "lock or takes 2 operands, found 1 (lock or [%rD+off], %rS)"),
        Case(text: "lock\nexit", syntax: .conformance, line: 1, column: 5,
             message: "lock needs an operation: add, or, and, xor, xchg or cmpxchg, optionally after 'fetch'"),
        Case(text: "ldxq %r0, %r1\nexit", syntax: .conformance, line: 1, column: 1, message: "unknown mnemonic 'ldxq'"),
        Case(text: "ldxb %r0, %r1\nexit", syntax: .conformance, line: 1, column: 11,
             message: "expected a memory operand like [%r1+8], found '%'"),
        Case(text: "ldxb %r0, [%r1+0x10000]\nexit", syntax: .conformance, line: 1, column: 15,
             message: "offset 0x10000 does not fit in 16 bits"),
        Case(text: "lddw %r0\nexit", syntax: .conformance, line: 1, column: 9,
             message: "lddw takes 2 operands, found 1 (lddw %rD, imm64)"),
        Case(text: "or %r0, %r50\nexit", syntax: .conformance, line: 1, column: 9, message: "register %r50 does not exist"),
        Case(text: "", syntax: .conformance, line: 1, column: 1, message: "the program has no instructions"),
        Case(text: "# only a comment\n\n", syntax: .kernel, line: 1, column: 1, message: "the program has no instructions"),
        // Conformance syntax.
        Case(text: "mov %r0, 1, 2\nexit", syntax: .conformance, line: 1, column: 13,
             message: "mov takes 2 operands, found 3 (mov %rD, %rS or mov %rD, imm)"),
        Case(text: "mov %r0,\nexit", syntax: .conformance, line: 1, column: 9, message: "expected an operand after ','"),
        Case(text: "mov %r0, , 1\nexit", syntax: .conformance, line: 1, column: 10, message: "expected an operand before ','"),
        Case(text: "mov %r0, 12abc\nexit", syntax: .conformance, line: 1, column: 10, message: "'12abc' is not a number"),
        Case(text: "mov %r0, 99999999999999999999\nexit", syntax: .conformance, line: 1, column: 10,
             message: "number 99999999999999999999 is too large"),
        Case(text: "mov %r0, -2147483649\nexit", syntax: .conformance, line: 1, column: 10,
             message: "immediate -2147483649 does not fit in 32 bits"),
        Case(text: "lddw %r0, 0x10000000000000000\nexit", syntax: .conformance, line: 1, column: 11,
             message: "number 0x10000000000000000 is too large"),
        Case(text: "lddw %r0, -9223372036854775809\nexit", syntax: .conformance, line: 1, column: 11,
             message: "immediate -9223372036854775809 does not fit in 64 bits"),
        Case(text: "jeq %r0, 1, +40000\nexit", syntax: .conformance, line: 1, column: 13,
             message: "jump offset +40000 does not fit in 16 bits"),
        Case(text: "ldxw %r0, [%r1-32769]\nexit", syntax: .conformance, line: 1, column: 15,
             message: "offset -32769 does not fit in 16 bits"),
        Case(text: "ja +5\nexit", syntax: .conformance, line: 1, column: 1,
             message: "the jump lands at slot 6, outside the program (slots 0 to 1)"),
        Case(text: "ja +1\nlddw %r0, 1\nexit", syntax: .conformance, line: 1, column: 1,
             message: "the jump lands at slot 2, the second half of a 16-byte lddw"),
        Case(text: "a:\nexit\n  a: exit", syntax: .conformance, line: 3, column: 3, message: "label 'a' is already defined on line 1"),
        Case(text: "ja end\nexit\nend:", syntax: .conformance, line: 1, column: 1,
             message: "the jump lands at slot 2, outside the program (slots 0 to 1)"),
        Case(text: "mov %r0, é\nexit", syntax: .conformance, line: 1, column: 10, message: "unexpected character 'é'"),
        Case(text: "mov %r0, 1 ü\nexit", syntax: .conformance, line: 1, column: 12, message: "unexpected character 'ü'"),
        Case(text: "mov %r0, 1\n\u{1}", syntax: .conformance, line: 2, column: 1, message: "unexpected character U+0001"),
        Case(text: "lock foo [%r1], %r2\nexit", syntax: .conformance, line: 1, column: 6,
             message: "unknown atomic operation 'foo'; lock needs an operation: add, or, and, xor, xchg or cmpxchg, optionally after 'fetch'"),
        Case(text: "call foo\nexit", syntax: .conformance, line: 1, column: 6,
             message: "expected a helper number, 'local' and a label, 'kfunc[id:N]' or a register, found 'foo'"),
        Case(text: "ldxb %r0, [%r1+8\nexit", syntax: .conformance, line: 1, column: 17,
             message: "expected ']' after the memory operand, found the end of the line"),
        Case(text: "add %r1, %w2\nexit", syntax: .conformance, line: 1, column: 10, message: "expected a register like %r1, found '%w2'"),
        Case(text: "add 1, %r2\nexit", syntax: .conformance, line: 1, column: 5, message: "expected a register like %r1, found '1'"),
        Case(text: "exit %r0\n", syntax: .conformance, line: 1, column: 6, message: "exit takes 0 operands, found 1 (exit)"),
        Case(text: "lddw %r1, map[id:1]\nexit", syntax: .conformance, line: 1, column: 15,
             message: "map[id:N] names a loaded map by id; write map[fd:N] or map[idx:N]"),
        Case(text: "lddw %r1, map_value[fd:1]+-1\nexit", syntax: .conformance, line: 1, column: 27,
             message: "expected a value offset, found '-'"),
        Case(text: "call kfunc[id:1, module:40000]\nexit", syntax: .conformance, line: 1, column: 25,
             message: "module index 40000 does not fit in 16 bits"),
        Case(text: "ja32 +2147483648\nexit", syntax: .conformance, line: 1, column: 6,
             message: "jump offset +2147483648 does not fit in 32 bits"),
        Case(text: "mov %r0, 1 extra\nexit", syntax: .conformance, line: 1, column: 12, message: "unexpected 'extra' after the operand"),
        // Kernel syntax.
        Case(text: "r0 = 2147483648\nexit", syntax: .kernel, line: 1, column: 6,
             message: "immediate 2147483648 does not fit in 32 bits; add 'll' for a 64-bit load"),
        Case(text: "r50 = 1\nexit", syntax: .kernel, line: 1, column: 1, message: "register r50 does not exist"),
        Case(text: "r0 += r11\nexit", syntax: .kernel, line: 1, column: 7, message: "register r11 does not exist"),
        Case(text: "w1 += r2\nexit", syntax: .kernel, line: 1, column: 7,
             message: "expected w2, not 'r2': both registers of a 32-bit operation are w registers"),
        Case(text: "if r1 > w2 goto +0\nexit", syntax: .kernel, line: 1, column: 9,
             message: "expected r2, not 'w2': both registers of a 64-bit operation are r registers"),
        Case(text: "r1 = -r2\nexit", syntax: .kernel, line: 1, column: 7, message: "negation names one register on both sides, as in r1 = -r1"),
        Case(text: "r1 = be16 r2\nexit", syntax: .kernel, line: 1, column: 11, message: "be16 names one register on both sides, as in r1 = be16 r1"),
        Case(text: "goto x\nexit", syntax: .kernel, line: 1, column: 6, message: "label 'x' is not defined"),
        Case(text: "if r1 > 2 goto\nexit", syntax: .kernel, line: 1, column: 15,
             message: "expected a jump offset like +3 or a label, found the end of the line"),
        Case(text: "if r1 > 2 goto +1 <x\nexit", syntax: .kernel, line: 1, column: 21,
             message: "expected '>' after the symbol name, found the end of the line"),
        Case(text: "if r1 ? 2 goto +1\nexit", syntax: .kernel, line: 1, column: 7,
             message: "expected a comparison like '==', '!=', 's<' or '&', found '?'"),
        Case(text: "if r1 > 2 +1\nexit", syntax: .kernel, line: 1, column: 11, message: "expected 'goto', found '+'"),
        Case(text: "r0 = *(u128 *)(r1 + 0)\nexit", syntax: .kernel, line: 1, column: 8, message: "expected a type like u64, found 'u128'"),
        Case(text: "r0 = *(u8 *)(w1 + 0)\nexit", syntax: .kernel, line: 1, column: 14, message: "'w1' cannot address memory; write r1"),
        Case(text: "r0 = *(u8 *)(r1 + 40000)\nexit", syntax: .kernel, line: 1, column: 17, message: "offset 40000 does not fit in 16 bits"),
        Case(text: "*(s8 *)(r1 + 0) = 1\nexit", syntax: .kernel, line: 1, column: 3, message: "expected an unsigned type like u64, found 's8'"),
        Case(text: "lock *(u8 *)(r1 + 0) += r2\nexit", syntax: .kernel, line: 1, column: 8,
             message: "atomic operations work on u32 or u64, not u8"),
        Case(text: "lock *(u64 *)(r1 + 0) -= r2\nexit", syntax: .kernel, line: 1, column: 23,
             message: "expected '+=', '|=', '&=' or '^=' after the address, found '-='"),
        Case(text: "lock *(u64 *)(r1 + 0) += w2\nexit", syntax: .kernel, line: 1, column: 26,
             message: "a u64 atomic operation needs r registers, found 'w2'"),
        Case(text: "r2 = atomic_fetch_add((u64 *)(r1 + 0), r3)\nexit", syntax: .kernel, line: 1, column: 40,
             message: "atomic_fetch_add returns the old value in its operand register"),
        Case(text: "r2 = atomic_fetch_add((u16 *)(r1 + 0), r2)\nexit", syntax: .kernel, line: 1, column: 24,
             message: "atomic operations work on u32 or u64, not u16"),
        Case(text: "r1 = cmpxchg_64(r1 + 0, r0, r2)\nexit", syntax: .kernel, line: 1, column: 1,
             message: "cmpxchg_64 always writes r0, not r1"),
        Case(text: "r0 = cmpxchg_64(r1 + 0, r3, r2)\nexit", syntax: .kernel, line: 1, column: 25, message: "cmpxchg_64 compares with r0, not r3"),
        Case(text: "r1 = xchg_64((u32 *)(r1 + 0), r1)\nexit", syntax: .kernel, line: 1, column: 15, message: "xchg_64 works on u64, not u32"),
        Case(text: "w1 = 0x1 ll\nexit", syntax: .kernel, line: 1, column: 1, message: "a 64-bit immediate (ll) needs an r register, found 'w1'"),
        Case(text: "r1 = map[id:3]\nexit", syntax: .kernel, line: 1, column: 10,
             message: "map[id:N] names a loaded map by id; write map[fd:N] or map[idx:N]"),
        Case(text: "w1 = (s32)w2\nexit", syntax: .kernel, line: 1, column: 7, message: "(s32) needs 64-bit registers: write r1 = (s32)r2"),
        Case(text: "r1 = (u8)r2\nexit", syntax: .kernel, line: 1, column: 7, message: "expected (s8), (s16) or (s32), found 'u8'"),
        Case(text: "r1 = *(s64 *)(r2 + 0)\nexit", syntax: .kernel, line: 1, column: 8, message: "sign-extending loads read s8, s16 or s32"),
        Case(text: "r1 = *(u8 *)skb[1]\nexit", syntax: .kernel, line: 1, column: 1, message: "legacy packet loads always write r0"),
        Case(text: "r0 = *(u64 *)skb[1]\nexit", syntax: .kernel, line: 1, column: 8, message: "legacy packet loads read u8, u16 or u32"),
        Case(text: "r1 = foo\nexit", syntax: .kernel, line: 1, column: 6, message: "unknown value 'foo' after '='"),
        Case(text: "r1 ! 2\nexit", syntax: .kernel, line: 1, column: 4, message: "expected '=' or an operator like '+=' after 'r1', found '!'"),
        Case(text: "foo r1\nexit", syntax: .kernel, line: 1, column: 1, message: "unknown instruction 'foo'"),
        Case(text: "+ r1\nexit", syntax: .kernel, line: 1, column: 1, message: "expected an instruction, found '+'"),
        Case(text: ".text\nexit", syntax: .kernel, line: 1, column: 1,
             message: "directive '.text' is not supported; write instructions, labels and comments"),
        Case(text: "exit\nr0 = 1 2", syntax: .kernel, line: 2, column: 8, message: "unexpected '2' after the instruction"),
        Case(text: "gotol +5\nexit", syntax: .kernel, line: 1, column: 1,
             message: "the jump lands at slot 6, outside the program (slots 0 to 1)"),
        Case(text: "\tr0 = 1\n\tr0 = *(u8 *)(r1 + é)\nexit", syntax: .kernel, line: 2, column: 20, message: "unexpected character 'é'"),
        Case(text: "callx\nexit", syntax: .kernel, line: 1, column: 6, message: "expected a register like r1, found the end of the line"),
        Case(text: "call\nexit", syntax: .kernel, line: 1, column: 5,
             message: "expected a helper number, pc+offset, a label or kfunc[id:N], found the end of the line"),
        Case(text: "store_release((u8 *)(r1 + 0) r2)\nexit", syntax: .kernel, line: 1, column: 30,
             message: "expected ',' after the address, found 'r2'"),
    ]

    @Test(arguments: cases)
    func reportsLineColumnAndMessage(_ testCase: Case) {
        #expect(throws: AssemblyError(line: testCase.line, column: testCase.column, message: testCase.message)) {
            try Assembler.assemble(testCase.text, syntax: testCase.syntax)
        }
    }

    @Test func farLabelSuggestsLongJump() {
        let text = "goto far\n" + String(repeating: "r0 = 1\n", count: 40_000) + "far:\nexit\n"
        #expect(throws: AssemblyError(line: 1, column: 6, message: "label 'far' is 40000 slots away, too far for a 16-bit offset; use gotol")) {
            try Assembler.assemble(text, syntax: .kernel)
        }
        #expect(throws: Never.self) { try Assembler.assemble(text.replacingFirst("goto", with: "gotol"), syntax: .kernel) }
    }

    @Test func descriptionNamesLineAndColumn() {
        #expect(AssemblyError(line: 3, column: 7, message: "label 'x' is not defined").description == "line 3:7: label 'x' is not defined")
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        return String(self[..<range.lowerBound]) + replacement + String(self[range.upperBound...])
    }
}
