import BPFInstructions
@testable import BPFVM
import Foundation
import Testing
import TestPeers

/// The AArch64 back end on the shared front end. This machine cannot run its code, so LLVM's
/// disassembler reads it back: every word must be an instruction, and the loop must come
/// out as the instructions we meant.
@Suite struct AArch64BackEndTests {
    static let arithmeticLoop = """
        mov %r0, 0
        mov %r1, 1000
        loop:
        add %r0, %r1
        mul %r0, 7
        xor %r0, 0x5a5a
        rsh %r0, 1
        sub %r1, 1
        jne %r1, 0, loop
        exit
        """

    func disassemble(_ code: [UInt8]) throws -> [String]? {
        let tools = URL(fileURLWithPath: ProcessInfo.processInfo.environment["SWIFTBPF_CLANG"] ?? "/opt/swift/usr/bin/clang")
            .deletingLastPathComponent()
        let objcopy = tools.appendingPathComponent("llvm-objcopy").path, objdump = tools.appendingPathComponent("llvm-objdump").path
        guard FileManager.default.isExecutableFile(atPath: objcopy), FileManager.default.isExecutableFile(atPath: objdump) else {
            #expect(!TestData.sharedDataRequired, "llvm-objcopy and llvm-objdump not found in \(tools.path)")
            return nil
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-a64-jit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let raw = directory.appendingPathComponent("code.bin"), object = directory.appendingPathComponent("code.o")
        try Data(code).write(to: raw)
        _ = try Subprocess.output(objcopy, ["-I", "binary", "-O", "elf64-littleaarch64", "--rename-section=.data=.text,code",
                                            raw.path, object.path])
        let text = String(decoding: try Subprocess.output(objdump, ["-d", "--no-show-raw-insn", object.path]), as: UTF8.self)
        // Lines look like "      14: \tmov\tx9, #0x7 // =7"; comments go.
        return text.split(separator: "\n").compactMap { line in
            guard let colon = line.firstIndex(of: ":"), line[..<colon].allSatisfy({ $0 == " " || $0.isHexDigit }),
                  !line[..<colon].trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            let instruction = line[line.index(after: colon)...].split(separator: "//").first ?? ""
            return instruction.split(whereSeparator: { $0 == "\t" || $0 == " " }).joined(separator: " ")
        }
    }

    @Test func arithmeticLoopDisassembles() throws {
        let slots = try compile(try Assembler.assemble(Self.arithmeticLoop, syntax: .conformance), helperIndex: { _ in nil })
        let code = try #require(JITCompiler.compile(slots, stackTop: 0, as: AArch64BackEnd.self)?.code)
        guard let lines = try disassemble(code) else { return }
        #expect(lines.count == code.count / 4)
        #expect(!lines.contains { $0.contains("unknown") || $0.hasPrefix("udf") }, "\(lines)")
        // The loop body, r0 in x7 and r1 in x0, immediates through x9.
        let body = ["add x7, x7, x0", "mov x9, #0x7", "mul x7, x7, x9", "mov x9, #0x5a5a", "eor x7, x7, x9",
                    "lsr x7, x7, #1", "mov x9, #0x1", "sub x0, x0, x9", "mov x9, #0x0", "cmp x0, x9"]
        let start = try #require(lines.firstIndex(of: body[0]), "\(lines)")
        #expect(Array(lines[start..<min(lines.count, start + body.count)]) == body, "\(lines)")
        #expect(lines[start + body.count].hasPrefix("b.ne"), "\(lines)")
    }

    @Test func verifiedByteLoopChargesOncePerIteration() throws {
        let slots = try compile(try Assembler.assemble(TestData.byteLoop, syntax: .conformance), helperIndex: { _ in nil })
        let code = try #require(JITCompiler.compile(slots, stackTop: 0, checksMemory: false, as: AArch64BackEnd.self)?.code)
        guard let lines = try disassemble(code) else { return }
        #expect(!lines.contains { $0.contains("unknown") || $0.hasPrefix("udf") }, "\(lines)")
        let start = try #require(lines.firstIndex(of: "subs x28, x28, #0x5"), "\(lines)")
        let loop = Array(lines[(start + 1)...].prefix(6))
        #expect(loop[0].hasPrefix("b.lo") && loop[1] == "cmp x0, x2" && loop[2].hasPrefix("b.hs")
                && loop[3] == "ldrb w3, [x0]" && loop[4] == "add x7, x7, x3", "\(loop)")
    }

    @Test func checkedMemoryIsNotCompiledYet() throws {
        let slots = try compile(try Assembler.assemble(TestData.byteLoop, syntax: .conformance), helperIndex: { _ in nil })
        #expect(JITCompiler.compile(slots, stackTop: 0, as: AArch64BackEnd.self) == nil)
    }
}
