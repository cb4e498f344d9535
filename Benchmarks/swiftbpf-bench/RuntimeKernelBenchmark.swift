#if os(Linux)
import BPFInstructions
import BPFLinux
import BPFObject
import BPFVM
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
        /// CPU ns per packet, one BPF_PROG_TEST_RUN each.
        var perCall: Double
        /// The kernel's mean ns per run in those calls.
        var perCallKernelTimer: Double
        /// CPU ns per packet run with `repeatCount` runs per call.
        var amortized: Double
        /// The kernel's mean ns per run in those calls.
        var amortizedKernelTimer: Double
    }

    static let fixtures = "Tests/BPFVMTests/Fixtures/runtime"
    static let repeatCount: UInt32 = 1000

    /// A fixture (the firewall unless told) in the VM with the JIT
    /// (`RuntimeBenchmark.vmNanosecondsPerPacket`) beside the kernel's test run of the same
    /// object over the same packets, and the ratio.
    static func run(packets: [[UInt8]], fixture: String = "firewall", about: String = "XDP, LPM tries, rules from firewall.maps") throws {
        print("\n\(fixture).bpf.c (\(about)) in the VM and in the kernel, ns per packet")
        let object = try ObjectFile(parsing: RuntimeBenchmark.compile("\(fixtures)/\(fixture).bpf.c"), name: fixture)
        let setup = try mapWrites(fixture)
        let vmObject = try LoadedObject(file: object, engine: .jit)
        for (map, key, value) in setup {
            guard let target = vmObject.map(named: map) else { throw RuntimeBenchmark.FixtureFailure(description: "\(fixture).maps names map \(map), which the object lacks") }
            try target.update(key: key, value: value, flags: .any)
        }
        let vmProgram = try vmObject.program(named: fixture)
        let vm = try RuntimeBenchmark.vmNanosecondsPerPacket(vmProgram, packets: packets)
        let sample = stride(from: 0, to: packets.count, by: 8).map { packets[$0] }
        let vmRepeated = try RuntimeBenchmark.vmNanosecondsPerRepeatedRun(vmProgram, packets: sample, repeats: Int(repeatCount))
        // The VM's run per packet goes beside the kernel's call per packet, its repeated runs
        // beside the kernel's repeated runs: like with like.
        print(pad("engine", 62, left: true) + pad("ns/packet", 12) + pad("Mpackets/s", 14) + pad("VM/this", 10))
        func row(_ name: String, _ ns: Double, vm: Double? = nil) {
            print(pad(name, 62, left: true) + pad(format(ns, decimals: 1), 12) + pad(format(1e3 / ns, decimals: 2), 14)
                  + pad(vm.map { format($0 / ns, decimals: 2) + "x" } ?? "", 10))
        }
        row("VM, JIT (verified), a run per packet (CPU time)", vm)
        row("VM, JIT (verified), \(repeatCount) runs per copy, every 8th packet (CPU)", vmRepeated)
        guard let kernel = try measure(object, fixture: fixture, setup: setup, packets: packets) else { return }
        row("kernel test run, a call per packet (CPU time)", kernel.perCall, vm: vm)
        row("  the kernel's timer in those calls", kernel.perCallKernelTimer, vm: vm)
        row("kernel test run, \(repeatCount) runs per call, every 8th packet (CPU)", kernel.amortized, vm: vmRepeated)
        row("  the kernel's timer in those calls", kernel.amortizedKernelTimer, vm: vmRepeated)
    }

    /// `<fixture>.maps`: map, key and value of each update, in order; none without the file.
    static func mapWrites(_ fixture: String) throws -> [(String, [UInt8], [UInt8])] {
        let path = RuntimeBenchmark.repository.appendingPathComponent("\(fixtures)/\(fixture).maps")
        guard FileManager.default.fileExists(atPath: path.path) else { return [] }
        let text = try String(contentsOf: path, encoding: .utf8)
        return try text.split(separator: "\n").compactMap { line in
            let fields = line.prefix { $0 != "#" }.split(separator: " ").map(String.init)
            return fields.count == 3 ? (fields[0], try Hex.bytes(fields[1]), try Hex.bytes(fields[2])) : nil
        }
    }

    /// The kernel's figures for `object` over `packets`; nil (after saying why) when bpf(2)
    /// is not usable.
    static func measure(_ object: ObjectFile, fixture: String, setup: [(String, [UInt8], [UInt8])],
                        packets: [[UInt8]]) throws -> Figures? {
        let collection: ObjectCollection
        do { collection = try object.load() } catch {
            print("(no kernel figures: loading \(fixture) failed: \(error))")
            return nil
        }
        defer { collection.close() }
        for (map, key, value) in setup { try collection.map(map).update(key: key, value: value) }
        let program = try collection.program(fixture)

        let sample = stride(from: 0, to: packets.count, by: 8).map { packets[$0] }
        var figures = Figures(perCall: .infinity, perCallKernelTimer: .infinity,
                              amortized: .infinity, amortizedKernelTimer: .infinity)
        for _ in 0..<5 {
            var kernelTotal = 0.0
            let start = JITBenchmark.threadTime()
            for packet in packets { kernelTotal += Double(try program.testRun(data: packet).duration) }
            figures.perCall = min(figures.perCall, (JITBenchmark.threadTime() - start) / Double(packets.count))
            figures.perCallKernelTimer = min(figures.perCallKernelTimer, kernelTotal / Double(packets.count))
        }
        var kernelTotal = 0.0
        let start = JITBenchmark.threadTime()
        for packet in sample { kernelTotal += Double(try program.testRun(data: packet, repeat: repeatCount).duration) }
        figures.amortized = (JITBenchmark.threadTime() - start) / Double(sample.count) / Double(repeatCount)
        figures.amortizedKernelTimer = kernelTotal / Double(sample.count)
        return figures
    }
}
#endif
