import BPFObject
import BPFVM
import Foundation

/// Whole objects in the VM: an XDP program of a clang-built object over the Ethernet packets
/// of the shared corpus held in memory, ns per packet (and packets per second), with the JIT
/// in verified mode and with the interpreter. Each packet is copied into the program's frame
/// and the program runs with its maps, as `LoadedProgram.run(packet:)` does for every caller.
/// The kernel's column (BPF_PROG_TEST_RUN of the same program over the same packets) comes
/// from the kernel side of this suite, which calls `vmNanosecondsPerPacket`.
enum RuntimeBenchmark {
    /// A program to time: an object's C source in the repository and the program's name.
    struct Subject {
        var source: String
        var program: String
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let subjects = [Subject(source: "Tests/BPFVMTests/Fixtures/objects/pass.bpf.c", program: "pass"),
                           Subject(source: "Tests/BPFVMTests/Fixtures/objects/counter.bpf.c", program: "count"),
                           Subject(source: "Tests/BPFVMTests/Fixtures/runtime/callbacks.bpf.c", program: "callbacks")]

    static func run() throws {
        print("suite runtime: XDP programs of clang-built objects in the VM over the corpus's Ethernet packets in memory (release build)")
        let packets = FilterBenchmark.corpusPackets().filter { (14...3520).contains($0.count) }
        guard !packets.isEmpty else {
            print("(no Ethernet packets in ../shared/pcaps/tcpdump or $SWIFTBPF_SHARED: no figures)")
            return
        }
        print("\n\(packets.count) packets, ns per packet (packets per second), thread CPU time")
        print(pad("program", 30, left: true) + pad("JIT (verified)", 24) + pad("interpreter", 24))
        for subject in subjects {
            let bytes = try compile(subject.source)
            var line = pad(subject.program, 30, left: true)
            for engine in [EngineKind.jit, .interpreter] {
                let object = try LoadedObject(bytes: bytes, name: subject.program, engine: engine)
                let time = try vmNanosecondsPerPacket(try object.program(named: subject.program), packets: packets)
                line += pad("\(format(time, decimals: 1)) (\(format(1e9 / time / 1e6, decimals: 2)) M/s)", 24)
            }
            print(line)
        }
        #if os(Linux)
        try RuntimeKernelBenchmark.run(packets: packets)
        try RuntimeKernelBenchmark.run(packets: packets, fixture: "callbacks",
                                       about: "XDP: bpf_loop and for_each_map_elem over four maps per packet")
        #endif
    }

    /// ns per packet of `program` over `packets`: each one copied into the frame and run,
    /// in this thread's CPU time (the jit suite's `measureRun`: best of 50 rounds).
    static func vmNanosecondsPerPacket(_ program: LoadedProgram, packets: [[UInt8]]) throws -> Double {
        let frames = ClassicBPFBenchmark.buffers(packets)
        defer { for frame in frames { frame.deallocate() } }
        var sink: UInt64 = 0
        let time = try frames.withUnsafeBufferPointer { frames in
            try JITBenchmark.measureRun {
                for frame in frames { sink &+= try program.run(packet: UnsafeRawBufferPointer(frame)) }
            }
        }
        if sink == 0x5eed { print("") }  // keeps the runs alive
        return time / Double(frames.count)
    }

    /// ns per run of `program` over `packets` as the kernel's test run with `repeats` runs per
    /// call spends them: each packet copied into the frame once and run `repeats` times, the
    /// copy amortized; best of 5 rounds of this thread's CPU time.
    static func vmNanosecondsPerRepeatedRun(_ program: LoadedProgram, packets: [[UInt8]], repeats: Int) throws -> Double {
        let frames = ClassicBPFBenchmark.buffers(packets)
        defer { for frame in frames { frame.deallocate() } }
        var sink: UInt64 = 0
        var best = Double.infinity
        for _ in 0..<5 {
            let start = JITBenchmark.threadTime()
            for frame in frames {
                sink &+= try program.run(packet: UnsafeRawBufferPointer(frame))
                for _ in 1..<repeats { sink &+= try program.rerun() }
            }
            best = min(best, (JITBenchmark.threadTime() - start) / Double(frames.count * repeats))
        }
        if sink == 0x5eed { print("") }  // keeps the runs alive
        return best
    }

    /// The object clang makes of a C source of the repository (`-target bpf -O2 -g`).
    static func compile(_ source: String) throws -> [UInt8] {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-bench-\(getpid()).bpf.o").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        guard spawn("/opt/swift/usr/bin/clang", ["-target", "bpf", "-O2", "-g", "-c", "-I/usr/include/x86_64-linux-gnu",
                                                 repository.appendingPathComponent(source).path, "-o", output]) else {
            throw FixtureFailure(description: "clang could not compile \(source)")
        }
        guard let bytes = FileManager.default.contents(atPath: output) else {
            throw FixtureFailure(description: "cannot read \(output)")
        }
        return [UInt8](bytes)
    }

    struct FixtureFailure: Error, CustomStringConvertible { var description: String }
}
