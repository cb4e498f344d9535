import BPFInstructions
import BPFVerifier
import BPFVM
#if os(Linux)
import BPFLinux
import BPFObject
import Glibc
#endif

/// The JIT beside the interpreter and the Linux kernel's JIT on the `vm` suite's programs,
/// and the JIT's compile time. The kernel runs each program as an XDP program through
/// BPF_PROG_TEST_RUN with a repeat count and reports the mean duration itself.
enum JITBenchmark {
    /// What the kernel runs for each `VMPrograms` program (same order). The programs that
    /// do not read the packet are loaded as they are; the others start by turning the XDP
    /// context into r1 = packet and a packet-end pointer, and bound their accesses the way
    /// the kernel's verifier can follow: `r + size > end` before an access, and the byte loop
    /// also counts to 1500 — 8 instructions a byte where the VM's loop has 5.
    static let kernelAssembly: [String?] = [
        """
        mov %r0, 0
        exit
        """,
        nil,  // arithmetic loop: as it is
        nil,  // division loop: as it is
        """
        ldxw %r3, [%r1+4]
        ldxw %r1, [%r1]
        mov %r0, 0
        mov %r5, 0
        loop:
        jge %r5, 1500, done
        mov %r4, %r1
        add %r4, 1
        jgt %r4, %r3, done
        ldxb %r4, [%r1]
        add %r0, %r4
        add %r1, 1
        add %r5, 1
        ja loop
        done:
        exit
        """,
        """
        ldxw %r2, [%r1+4]
        ldxw %r1, [%r1]
        mov %r0, 0
        mov %r6, %r1
        add %r6, 54
        jgt %r6, %r2, out
        ldxh %r3, [%r1+12]
        jne %r3, 0x0008, out
        ldxb %r3, [%r1+14]
        mov %r4, %r3
        and %r4, 0xf0
        jne %r4, 0x40, out
        and %r3, 0x0f
        lsh %r3, 2
        jlt %r3, 20, out
        ldxb %r5, [%r1+23]
        jne %r5, 6, out
        mov %r7, %r1
        add %r7, 14
        add %r7, %r3
        mov %r6, %r7
        add %r6, 4
        jgt %r6, %r2, out
        ldxw %r8, [%r1+26]
        ldxw %r9, [%r1+30]
        ldxh %r3, [%r7]
        ldxh %r4, [%r7+2]
        lddw %r0, 0xcbf29ce484222325
        lddw %r6, 0x100000001b3
        xor %r0, %r8
        mul %r0, %r6
        xor %r0, %r9
        mul %r0, %r6
        xor %r0, %r3
        mul %r0, %r6
        xor %r0, %r4
        mul %r0, %r6
        xor %r0, %r5
        mul %r0, %r6
        out:
        exit
        """,
    ]

    /// Best of 50 rounds of about a millisecond of this thread's CPU time. The kernel's test
    /// run stops its clock while the program is preempted; on a machine loaded by other work,
    /// wall-clock rounds here would count that time and the comparison would not be fair.
    static func measureRun(_ body: () throws -> Void) rethrows -> Double {
        var iterations = 1
        while true {
            let start = threadTime()
            for _ in 0..<iterations { try body() }
            if threadTime() - start >= 1_000_000 || iterations >= 1 << 30 { break }
            iterations *= 4
        }
        var best = Double.infinity
        for _ in 0..<50 {
            let start = threadTime()
            for _ in 0..<iterations { try body() }
            best = min(best, (threadTime() - start) / Double(iterations))
        }
        return best
    }

    /// Nanoseconds of CPU time this thread has run (wall clock where there is no such clock).
    static func threadTime() -> Double {
        #if os(Linux)
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
        #else
        return nanoseconds(ContinuousClock.now - origin)
        #endif
    }

    private static let origin = ContinuousClock.now

    static func run() throws {
        print("suite jit: interpreter, SwiftBPF JIT (checked mode; verified mode where BPFVerifier accepts the program for its input)")
        print("and the Linux kernel's JIT (XDP test run), ns per run (release build; ours in thread CPU time)")
        print(pad("program", 42, left: true) + pad("instructions", 14) + pad("interpreter", 13) + pad("JIT", 10)
              + pad("verified", 10) + pad("kernel JIT", 12) + pad("JIT/kernel", 12) + pad("verified/kernel", 17))
        var sink: UInt64 = 0
        for (index, benchmark) in VMPrograms.all.enumerated() {
            let program = try Assembler.assemble(benchmark.assembly, syntax: .conformance)
            let interpreter = try Interpreter(program: program)
            let jit = try JITProgram(program: program)
            var memory = benchmark.memory
            let (interpreted, compiled) = try memory.withUnsafeMutableBytes { buffer in
                let interpreted = try measureRun { sink &+= try interpreter.run(memory: buffer) }
                let compiled = try measureRun { sink &+= try jit.run(memory: buffer) }
                return (interpreted, compiled)
            }
            guard try jit.run(memory: &memory) == interpreter.run(memory: &memory) else {
                print("\(benchmark.name): the JIT and the interpreter disagree")
                exit(code: 1)
            }
            let verifiedJIT = (try? Verifier.verify(program, as: .plainMemory(size: memory.count))).flatMap { try? JITProgram(verified: $0) }
            let verified = try verifiedJIT.map { engine in
                guard try engine.run(memory: &memory) == interpreter.run(memory: &memory) else {
                    print("\(benchmark.name): the verified JIT and the interpreter disagree")
                    exit(code: 1)
                }
                return try memory.withUnsafeMutableBytes { buffer in try measureRun { sink &+= try engine.run(memory: buffer) } }
            }
            let kernelText = index < kernelAssembly.count ? kernelAssembly[index] ?? benchmark.assembly : nil
            let expected = UInt32(truncatingIfNeeded: try interpreter.run(memory: &memory))
            let kernel = kernelText.map { kernelDuration($0, packet: VMPrograms.packet, expecting: expected) }
                ?? .failure(KernelUnavailable(message: "no kernel form"))
            var line = pad(benchmark.name, 42, left: true) + pad(String(interpreter.executedInstructions), 14)
                + pad(format(interpreted, decimals: 1), 13) + pad(format(compiled, decimals: 1), 10)
                + pad(verified.map { format($0, decimals: 1) } ?? "refused", 10)
            switch kernel {
            case .success(let nanoseconds):
                line += pad(format(nanoseconds, decimals: 1), 12) + pad(format(compiled / nanoseconds, decimals: 2), 12)
                    + pad(verified.map { format($0 / nanoseconds, decimals: 2) } ?? "-", 17)
            case .failure(let reason):
                line += pad("-", 12) + pad("-", 12) + pad("-", 17) + "  (kernel: \(reason.message))"
            }
            print(line)
        }
        try compileTimes()
        if sink == 0x5eed { print("") }  // keeps the results alive
    }

    /// Compile time (decode, blocks, x86-64 code, executable pages) per 100 instructions, in
    /// thread CPU time like the runs (the page mapping's system calls included).
    static func compileTimes() throws {
        print("")
        print(pad("compile", 42, left: true) + pad("instructions", 14) + pad("code bytes", 12) + pad("µs", 10)
              + pad("µs/100 instr", 14))
        var random = SeededGenerator(seed: 0x0b5e_55ed)
        var straightLine: [Instruction] = []
        while straightLine.count < 1000 {
            let instruction = RandomProgram.straightLine(using: &random)
            if (try? Program([instruction, .exit])).flatMap({ try? Interpreter(program: $0) }) != nil {
                straightLine.append(instruction)
            }
        }
        var programs = try VMPrograms.all.map { ($0.name, try Assembler.assemble($0.assembly, syntax: .conformance)) }
        programs.append(("1000 random straight-line instructions", try Program(straightLine + [.exit])))
        for (name, program) in programs {
            let count = program.instructions.count
            let nanoseconds = try measureRun { _ = try JITProgram(program: program) }
            let bytes = try JITProgram(program: program).codeSize
            print(pad(name, 42, left: true) + pad(String(count), 14) + pad(String(bytes), 12)
                  + pad(format(nanoseconds / 1000, decimals: 2), 10)
                  + pad(format(nanoseconds / 1000 / Double(count) * 100, decimals: 2), 14))
        }
    }

    struct KernelUnavailable: Error {
        var message: String
    }

    /// The kernel's own mean ns per run of the program as XDP, best of five test runs.
    /// The run must return what the interpreter returned (XDP keeps r0's low 32 bits).
    static func kernelDuration(_ assembly: String, packet: [UInt8], expecting expected: UInt32) -> Result<Double, KernelUnavailable> {
        #if os(Linux)
        do {
            let program = try Assembler.assemble(assembly, syntax: .conformance)
            let loaded = try KernelProgram(program, type: .xdp, name: "jit_bench")
            defer { loaded.close() }
            var best = Double.infinity
            for _ in 0..<5 {
                let result = try loaded.testRun(data: packet, repeat: 200_000)
                guard result.returnValue == expected else {
                    return .failure(KernelUnavailable(message: "returned \(result.returnValue), the VM \(expected)"))
                }
                best = min(best, Double(result.duration))
            }
            return .success(best)
        } catch {
            return .failure(KernelUnavailable(message: "\(error)".split(separator: "\n").suffix(3).joined(separator: " / ")))
        }
        #else
        return .failure(KernelUnavailable(message: "needs Linux"))
        #endif
    }
}
