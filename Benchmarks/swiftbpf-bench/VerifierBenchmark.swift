#if os(Linux)
import BPFInstructions
import BPFLinux
import BPFObject
import BPFVerifier
import Foundation
import Glibc

/// `swiftbpf-bench verifier`: SwiftBPF's verification time per program next to the kernel's
/// own for the same program ("verification time N usec" in its BPF_LOG_STATS statistics),
/// over the verifier tests' C fixtures and generated programs of more than 1,000 analysed
/// instructions. Ours: best per-run time of repeated verifications; the kernel's: the best
/// of five loads.
enum VerifierBenchmark {
    struct Entry {
        var name: String
        var ours: () throws -> VerifiedProgram
        var kernel: () throws -> Int?
    }

    static func run() throws {
        print("suite verifier: time to verify each program, SwiftBPF vs the Linux verifier (release build)")
        var entries: [Entry] = []
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tests/BPFVerifierTests/Fixtures/program_types.bpf.c")
        if let object = try compile(fixture.path) {
            for spec in object.programs where ProgramKind.supportedTypes.contains(spec.type) {
                entries.append(Entry(name: spec.name,
                                     ours: { try Verifier.verify(spec, maps: object.maps, btf: object.btf) },
                                     kernel: { try kernelTime(spec, object) }))
            }
        } else {
            print("(C fixtures skipped: clang could not compile \(fixture.path))")
        }
        for (name, program) in try generated() {
            entries.append(Entry(name: name,
                                 ours: { try Verifier.verify(program, as: .kernel(.socketFilter)) },
                                 kernel: { try kernelTime(program) }))
        }
        print(pad("program", 28, left: true) + pad("analysed", 10) + pad("ours µs", 10) + pad("kernel µs", 11) + pad("ratio", 8))
        for entry in entries {
            let verified: VerifiedProgram
            do { verified = try entry.ours() } catch {
                print(pad(entry.name, 28, left: true) + "  refused by SwiftBPF: \(error)")
                continue
            }
            let ours = try measure(rounds: 3, target: .milliseconds(100)) { _ = try entry.ours() } / 1000
            var kernel: Int?
            for _ in 0..<5 {
                if let time = try entry.kernel() { kernel = min(kernel ?? time, time) }
            }
            let kernelText = kernel.map(String.init) ?? "-"
            let ratio = kernel.map { $0 > 0 ? format(ours / Double($0), decimals: 2) : "-" } ?? "-"
            print(pad(entry.name, 28, left: true) + pad(String(verified.statistics.instructionsAnalysed), 10)
                  + pad(format(ours, decimals: 1), 10) + pad(kernelText, 11) + pad(ratio, 8))
        }
        print("ratio: ours / kernel (below 1: SwiftBPF is faster); the kernel's time is its own log statistic, in whole µs")
    }

    static func compile(_ source: String) throws -> ObjectFile? {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-verifier-bench-\(getpid()).o").path
        defer { unlink(output) }
        guard spawn(CollectionBenchmark.clang, [
            "-target", "bpf", "-O2", "-g", "-c", "-I/usr/include/x86_64-linux-gnu", source, "-o", output]) else { return nil }
        return try ObjectFile(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: output))), name: "program_types")
    }

    /// Programs that make both verifiers work: a long straight line, a loop of 1,000 rounds and
    /// a chain of branches whose paths the pruning has to merge.
    static func generated() throws -> [(String, Program)] {
        var straight: [Instruction] = [.arithmetic(.mov, .bits64, dst: .r0, source: .immediate(0))]
        for i in 0..<2000 {
            let slot = Int16(-8 * (i % 32 + 1))
            straight.append(.store(.double, base: .r10, offset: slot, source: .register(.r0)))
            straight.append(.arithmetic(.add, .bits64, dst: .r0, source: .immediate(Int32(i % 7))))
        }
        straight.append(.exit)
        let loop: [Instruction] = [
            .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(0)),
            .arithmetic(.mov, .bits64, dst: .r1, source: .immediate(0)),
            .arithmetic(.add, .bits64, dst: .r0, source: .register(.r1)),
            .arithmetic(.add, .bits64, dst: .r1, source: .immediate(1)),
            .branch(.lt, .bits64, dst: .r1, source: .immediate(1000), offset: -3),
            .exit,
        ]
        var branches: [Instruction] = [.arithmetic(.mov, .bits64, dst: .r0, source: .immediate(0))]
        // Both ways of each branch end in the same state but for r2's bits, which nothing
        // depends on, so each join is pruned once. (r2 is read afresh for each branch: tested
        // again, a known bit would decide a branch and make r2 matter.)
        for i in 0..<300 {
            branches.append(.load(.word, dst: .r2, base: .r1, offset: 0))
            branches.append(.arithmetic(.mov, .bits64, dst: .r3, source: .immediate(1)))
            branches.append(.branch(.set, .bits64, dst: .r2, source: .immediate(Int32(1 << (i % 31))), offset: 1))
            branches.append(.arithmetic(.mov, .bits64, dst: .r3, source: .immediate(1)))
            branches.append(.store(.double, base: .r10, offset: -8, source: .register(.r3)))
        }
        branches.append(.exit)
        return [("straight line, 4002", try Program(straight)), ("loop, 1000 rounds", try Program(loop)),
                ("300 branches", try Program(branches))]
    }

    static func kernelTime(_ spec: ProgramSpec, _ object: ObjectFile) throws -> Int? {
        let btf = try? LoadedBTF(object: object)
        defer { btf?.close() }
        let maps = try object.maps.map { try Map(spec: $0, btf: btf) }
        defer { for map in maps { map.close() } }
        let loaded = try KernelProgram(spec, maps: maps, btf: btf, options: .init(logLevel: 4))
        defer { loaded.close() }
        return verificationTime(loaded.verifierLog)
    }

    static func kernelTime(_ program: Program) throws -> Int? {
        let loaded = try KernelProgram(program, type: .socketFilter, options: .init(logLevel: 4))
        defer { loaded.close() }
        return verificationTime(loaded.verifierLog)
    }

    static func verificationTime(_ log: String?) -> Int? {
        guard let log, let range = log.range(of: "verification time ") else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }
}
#else
enum VerifierBenchmark {
    static func run() throws { print("suite verifier: the kernel comparison needs Linux") }
}
#endif
