#if os(Linux)
import BPFInstructions
import BPFLinux
import BPFObject
import Foundation

/// The kernel's side of `swiftbpf-bench runtime`: an XDP fixture of Tests/BPFVMTests/Fixtures/
/// runtime (compiled with clang at run time, its maps filled from `<name>.maps`) over the
/// Ethernet packets of the shared corpus held in memory, through BPF_PROG_TEST_RUN — one
/// call per packet (what a caller pays, the system call included) and `repeatCount` runs per
/// call (the program's own cost, the call amortized). Timed as the thread's CPU time, not
/// wall time, which on a shared machine is mostly other people's work; and as the kernel's
/// own timer reports it. With more than one run per call the kernel switches its XDP
/// dispatcher to the program and back around the runs (`bpf_prog_change_xdp`), which waits
/// for RCU — milliseconds of wall time per call — so those rows take every 8th packet.
/// The VM's figures go beside these.
enum RuntimeKernelBenchmark {
    struct Figures {
        var packets: Int
        /// CPU ns per packet, one BPF_PROG_TEST_RUN each.
        var perCall: Double
        /// The kernel's mean ns per run in those calls.
        var perCallKernelTimer: Double
        /// Packets in the repeated calls (every 8th).
        var sampled: Int
        /// CPU ns per packet run with `repeatCount` runs per call.
        var amortized: Double
        /// The kernel's mean ns per run in those calls.
        var amortizedKernelTimer: Double
    }

    static let clang = "/opt/swift/usr/bin/clang"
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tests/BPFVMTests/Fixtures/runtime")
    static let repeatCount: UInt32 = 1000

    /// The Ethernet packets the kernel's XDP test run takes whole (14 to 3520 bytes), as the
    /// agreement test takes them.
    static func packets() -> [[UInt8]] {
        FilterBenchmark.corpusPackets().filter { (14...3520).contains($0.count) }
    }

    /// Measures `fixture` over `packets`; nil (after saying why) when clang, the fixture or
    /// bpf(2) is not there.
    static func measure(fixture: String, packets: [[UInt8]]) throws -> Figures? {
        guard let object = compile(fixture) else { return nil }
        let collection: ObjectCollection
        do { collection = try object.load() } catch {
            print("(no kernel figures: loading \(fixture) failed: \(error))")
            return nil
        }
        defer { collection.close() }
        let setup = fixtures.appendingPathComponent("\(fixture).maps")
        if let text = try? String(contentsOf: setup, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let fields = line.prefix { $0 != "#" }.split(separator: " ").map(String.init)
                guard fields.count == 3 else { continue }
                try collection.map(fields[0]).update(key: Hex.bytes(fields[1]), value: Hex.bytes(fields[2]))
            }
        }
        let program = try collection.program(fixture)

        let sample = stride(from: 0, to: packets.count, by: 8).map { packets[$0] }
        var figures = Figures(packets: packets.count, perCall: .infinity, perCallKernelTimer: .infinity,
                              sampled: sample.count, amortized: .infinity, amortizedKernelTimer: .infinity)
        for _ in 0..<5 {
            var kernelTotal = 0.0
            let start = threadCPUTime()
            for packet in packets { kernelTotal += Double(try program.testRun(data: packet).duration) }
            figures.perCall = min(figures.perCall, (threadCPUTime() - start) / Double(packets.count))
            figures.perCallKernelTimer = min(figures.perCallKernelTimer, kernelTotal / Double(packets.count))
        }
        var kernelTotal = 0.0
        let start = threadCPUTime()
        for packet in sample { kernelTotal += Double(try program.testRun(data: packet, repeat: repeatCount).duration) }
        figures.amortized = (threadCPUTime() - start) / Double(sample.count) / Double(repeatCount)
        figures.amortizedKernelTimer = kernelTotal / Double(sample.count)
        return figures
    }

    /// Prints the kernel's rows of the runtime table: ns per packet and packets per second.
    static func printRows(_ figures: Figures) {
        func row(_ name: String, _ ns: Double) {
            print(pad(name, 62, left: true) + pad(format(ns, decimals: 1), 12) + pad(format(1e3 / ns, decimals: 2), 14))
        }
        row("kernel test run, a call per packet (CPU time)", figures.perCall)
        row("  the kernel's timer in those calls", figures.perCallKernelTimer)
        row("kernel test run, \(repeatCount) runs per call, every 8th packet (CPU)", figures.amortized)
        row("  the kernel's timer in those calls", figures.amortizedKernelTimer)
    }

    /// This thread's CPU time in ns, user and system.
    static func threadCPUTime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
    }

    /// The fixture compiled and parsed, or nil after a note.
    static func compile(_ fixture: String) -> ObjectFile? {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-runtime-bench-\(getpid()).o").path
        defer { unlink(output) }
        let source = fixtures.appendingPathComponent("\(fixture).bpf.c").path
        guard FileManager.default.isExecutableFile(atPath: clang),
              spawn(clang, ["-target", "bpf", "-O2", "-g", "-c", "-I/usr/include/x86_64-linux-gnu", source, "-o", output]),
              let bytes = try? readWholeFile(output), let object = try? ObjectFile(parsing: bytes, name: fixture) else {
            print("(no kernel figures: \(clang) could not compile \(source))")
            return nil
        }
        return object
    }
}

/// `swiftbpf-bench runtime-kernel`: the kernel's part alone, until the VM's `runtime` suite
/// puts its figures beside these (a suite name of its own, so that the two never collide).
enum RuntimeBenchmarkKernelOnly {
    static func run() throws {
        let fixture = "firewall"
        let packets = RuntimeKernelBenchmark.packets()
        print("suite runtime: \(fixture).bpf.c (XDP) over \(packets.count) Ethernet packets of the shared corpus in memory (release build)")
        guard !packets.isEmpty else {
            print("(no Ethernet packets in ../shared/pcaps/tcpdump or $SWIFTBPF_SHARED: no figures)")
            return
        }
        print(pad("engine", 62, left: true) + pad("ns/packet", 12) + pad("Mpackets/s", 14))
        if let figures = try RuntimeKernelBenchmark.measure(fixture: fixture, packets: packets) {
            RuntimeKernelBenchmark.printRows(figures)
        }
    }
}
#endif
