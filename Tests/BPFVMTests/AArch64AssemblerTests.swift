@testable import BPFVM
import Foundation
import Testing
import TestPeers

/// Our AArch64 encoder against LLVM's assembler (clang --target=aarch64-linux-gnu): each
/// case is what we encode and the assembly text that must give the same words.
@Suite struct AArch64AssemblerTests {
    typealias A = AArch64Assembler
    static let x0 = AArch64Register.x(0), x1 = AArch64Register.x(1), x2 = AArch64Register.x(2)
    static let x7 = AArch64Register.x(7), x19 = AArch64Register.x(19), x25 = AArch64Register.x(25)
    static let x29 = AArch64Register.x(29), sp = AArch64Register.stackPointer

    static let cases: [(words: [UInt32?], text: String)] = [
        ([A.operate(.add, x0, x1, x2, wide: true)], "add x0, x1, x2"),
        ([A.operate(.sub, x7, x19, x25, wide: false)], "sub w7, w19, w25"),
        ([A.operate(.subs, .zero, x1, x2, wide: true)], "cmp x1, x2"),
        ([A.operate(.and, x0, x0, x19, wide: true)], "and x0, x0, x19"),
        ([A.operate(.orr, x25, x1, x7, wide: false)], "orr w25, w1, w7"),
        ([A.operate(.eor, x2, x2, x1, wide: true)], "eor x2, x2, x1"),
        ([A.operate(.ands, .zero, x7, x1, wide: true)], "tst x7, x1"),
        ([A.operate(.add, x0, x1, immediate: 4095, wide: true)], "add x0, x1, #4095"),
        ([A.operate(.sub, sp, sp, immediate: 48, wide: true)], "sub sp, sp, #48"),
        ([A.operate(.subs, .zero, x19, immediate: 1, wide: false)], "cmp w19, #1"),
        ([A.multiply(x0, x1, x2, wide: true)], "mul x0, x1, x2"),
        ([A.multiplySubtract(x0, x1, x2, from: x7, wide: false)], "msub w0, w1, w2, w7"),
        ([A.process(.udiv, x0, x1, x2, wide: true)], "udiv x0, x1, x2"),
        ([A.process(.sdiv, x0, x1, x2, wide: false)], "sdiv w0, w1, w2"),
        ([A.process(.lslv, x7, x7, x1, wide: true)], "lsl x7, x7, x1"),
        ([A.process(.lsrv, x7, x7, x1, wide: false)], "lsr w7, w7, w1"),
        ([A.process(.asrv, x19, x19, x2, wide: true)], "asr x19, x19, x2"),
        ([A.shift(.left, x0, x1, by: 3, wide: true)], "lsl x0, x1, #3"),
        ([A.shift(.left, x0, x1, by: 31, wide: false)], "lsl w0, w1, #31"),
        ([A.shift(.right, x0, x1, by: 63, wide: true)], "lsr x0, x1, #63"),
        ([A.shift(.arithmeticRight, x0, x1, by: 5, wide: false)], "asr w0, w1, #5"),
        ([A.bitfield(signed: true, x0, x1, immr: 0, imms: 7, wide: true)], "sxtb x0, w1"),
        ([A.bitfield(signed: true, x0, x1, immr: 0, imms: 31, wide: true)], "sxtw x0, w1"),
        ([A.bitfield(signed: false, x0, x1, immr: 0, imms: 15, wide: false)], "uxth w0, w1"),
        ([A.reverseBytes(x0, x1, bits: 16)], "rev16 w0, w1"),
        ([A.reverseBytes(x0, x1, bits: 32)], "rev w0, w1"),
        ([A.reverseBytes(x0, x1, bits: 64)], "rev x0, x1"),
        ([A.move(x19, x2, wide: true)], "mov x19, x2"),
        ([A.move(.zeroingOthers, x0, 0x1234, slot: 1, wide: true)], "movz x0, #0x1234, lsl #16"),
        ([A.move(.keepingOthers, x0, 0xbeef, slot: 3, wide: true)], "movk x0, #0xbeef, lsl #48"),
        ([A.move(.inverted, x0, 0, slot: 0, wide: false)], "movn w0, #0"),
        (A.moveConstant(x1, 0).map { $0 }, "movz x1, #0"),
        (A.moveConstant(x1, UInt64.max).map { $0 }, "movn x1, #0"),
        (A.moveConstant(x1, 0xcbf2_9ce4_8422_2325).map { $0 },
         "movz x1, #0x2325\nmovk x1, #0x8422, lsl #16\nmovk x1, #0x9ce4, lsl #32\nmovk x1, #0xcbf2, lsl #48"),
        (A.moveConstant(x1, 0xffff_ffff_ffff_fffe).map { $0 }, "movn x1, #1"),
        (A.moveConstant(x1, 0x0000_0100_0000_01b3).map { $0 }, "movz x1, #0x1b3\nmovk x1, #0x100, lsl #32"),
        ([A.load(size: 1, x0, x1, offset: 14)], "ldrb w0, [x1, #14]"),
        ([A.load(size: 2, x0, x1, offset: 12)], "ldrh w0, [x1, #12]"),
        ([A.load(size: 4, x0, x1, offset: 26)], "ldur w0, [x1, #26]"),
        ([A.load(size: 8, x0, x29, offset: -8)], "ldur x0, [x29, #-8]"),
        ([A.load(size: 8, x0, x1, offset: 32760)], "ldr x0, [x1, #32760]"),
        ([A.store(size: 1, x7, x1, offset: 0)], "strb w7, [x1]"),
        ([A.store(size: 2, x7, x1, offset: -2)], "sturh w7, [x1, #-2]"),
        ([A.store(size: 4, x7, x1, offset: 4)], "str w7, [x1, #4]"),
        ([A.store(size: 8, x19, sp, offset: 16)], "str x19, [sp, #16]"),
        ([A.pushPair(x29, .linkRegister, sp, offset: -16)], "stp x29, x30, [sp, #-16]!"),
        ([A.popPair(x29, .linkRegister, sp, offset: 16)], "ldp x29, x30, [sp], #16"),
        ([A.branch(by: -8)], "b #-8"),
        ([A.branch(by: 1 << 20, link: true)], "bl #1048576"),
        ([A.branch(if: .notEqual, by: -12)], "b.ne #-12"),
        ([A.branch(if: .higherOrSame, by: 40)], "b.hs #40"),
        ([A.branch(if: .lessOrEqual, by: 8)], "b.le #8"),
        ([A.branchToRegister(x7, link: true)], "blr x7"),
        ([A.branchToRegister(x1, link: false)], "br x1"),
        ([A.ret()], "ret"),
    ]

    @Test func encodesAsLLVMAssembles() throws {
        let tools = URL(fileURLWithPath: "/opt/swift/usr/bin")
        let clang = ProcessInfo.processInfo.environment["SWIFTBPF_CLANG"] ?? tools.appendingPathComponent("clang").path
        let objcopy = URL(fileURLWithPath: clang).deletingLastPathComponent().appendingPathComponent("llvm-objcopy").path
        guard FileManager.default.isExecutableFile(atPath: clang), FileManager.default.isExecutableFile(atPath: objcopy) else {
            #expect(!TestData.sharedDataRequired, "clang and llvm-objcopy not found next to \(clang)")
            print("AArch64 encoder: skipped, no clang at \(clang)")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-a64-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("cases.s"), object = directory.appendingPathComponent("cases.o")
        let text = directory.appendingPathComponent("cases.bin")
        try Self.cases.map(\.text).joined(separator: "\n").appending("\n").write(to: source, atomically: true, encoding: .utf8)
        let assembled = try Subprocess.run(clang, ["--target=aarch64-linux-gnu", "-c", source.path, "-o", object.path])
        guard assembled.status == 0 else {
            // LLVM without the AArch64 target: a missing peer, not our bug.
            #expect(!TestData.sharedDataRequired, "clang could not assemble AArch64: \(assembled.errors)")
            print("AArch64 encoder: skipped, clang has no AArch64 target: \(assembled.errors)")
            return
        }
        _ = try Subprocess.output(objcopy, ["-O", "binary", "--only-section=.text", object.path, text.path])
        let bytes = [UInt8](try Data(contentsOf: text))
        var expected = stride(from: 0, to: bytes.count - 3, by: 4).map { at in
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) }
        }[...]
        for (words, text) in Self.cases {
            let reference = Array(expected.prefix(words.count))
            expected = expected.dropFirst(words.count)
            #expect(words == reference.map { $0 }, "\(text): ours \(words.map { $0.map { String($0, radix: 16) } ?? "nil" }), LLVM's \(reference.map { String($0, radix: 16) })")
        }
        #expect(expected.isEmpty, "LLVM emitted \(expected.count) more words than the cases")
    }

    @Test func refusesOperandsThatDoNotFit() {
        #expect(A.operate(.add, Self.x0, Self.x1, immediate: 4096, wide: true) == nil)
        #expect(A.load(size: 8, Self.x0, Self.x1, offset: 32768) == nil)
        #expect(A.load(size: 4, Self.x0, Self.x1, offset: -257) == nil)
        #expect(A.branch(if: .equal, by: 6) == nil)
        #expect(A.branch(by: 1 << 28) == nil)
        #expect(A.pushPair(Self.x0, Self.x1, Self.sp, offset: 512) == nil)
    }
}
