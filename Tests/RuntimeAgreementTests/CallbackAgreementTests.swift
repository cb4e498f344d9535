#if os(Linux)
import BPFVM
import Glibc
import Testing

extension RuntimeFixture {
    static let callbacks = RuntimeFixture(name: "callbacks", kind: .xdp)
}

/// Issue 9, point 2: bpf_loop and bpf_for_each_map_elem in BPFVM (JIT and interpreter)
/// against the kernel's BPF_PROG_TEST_RUN, with the `callbacks` fixture over packets whose
/// bytes pick loop counts, stopping points and keys: each packet's verdict and bytes, and
/// every map (the fixture's results, the array it updates in place, the per-CPU array, the
/// hash it deletes from, the LRU hash) at the end.
@Suite(.serialized)
struct CallbackAgreementTests {
    /// Indexes into the fixture's `results` (its `enum result`).
    enum Result: Int {
        case loopReturned, loopSum, loopStoppedAt, loopBadFlags, loopTooMany, loopZero
        case loopMapCalls, nestedSum, arrayVisits, arraySum, arrayReturned, arrayBadFlags
        case perCPUSum, hashVisits, hashSum, hashStopped, hashDeleted, lruVisits, lruSum, lruReturned
    }

    /// 64 frames of 64 bytes, from a fixed generator: the same every run.
    static let packets = CorpusPackets.generated(seed: 0x9e37_79b9)

    @Test(arguments: [EngineKind.jit, .interpreter])
    func callbacksAgreeWithTheKernel(engine: EngineKind) throws {
        var kernel: FixtureOutcome?
        try KernelPeer.run {
            // Per-CPU values: the kernel runs the program on this thread's CPU, the VM on 0.
            kernel = try Self.onProcessorZero { try KernelFixtureRun.run(.callbacks, over: Self.packets) }
        }
        guard var kernel else { return }   // no kernel: skipped with its reason
        // The VM keeps one CPU's values (processor 0); the kernel one per possible CPU, of which
        // only processor 0's may have changed.
        if let entries = kernel.maps["per_cpu"] {
            for entry in entries {
                #expect(entry.value.dropFirst(8).allSatisfy { $0 == 0 }, "per_cpu \(entry.key): a processor other than 0 changed")
            }
            kernel.maps["per_cpu"] = entries.map { FixtureOutcome.MapEntry(key: $0.key, value: Array($0.value.prefix(8))) }
        }
        let vm = try VMFixtureRun.run(.callbacks, over: Self.packets, engine: engine)
        var report = AgreementReport()
        report.compare(.callbacks, packets: Self.packets, kernel: kernel, vm: vm)
        for difference in report.differences { print("difference: \(difference)") }
        print("callbacks: \(report.summary) (\(engine))")
        #expect(report.failed == 0, "\(report.summary) (\(engine)): \(report.differences.prefix(5))")
        #expect(report.passed == Self.packets.count + 5)

        // What the results must be, from the packets alone, so that agreement on nothing cannot pass.
        let results = Self.results(kernel)
        var returned: UInt64 = 0
        for packet in Self.packets {
            let count = UInt64(packet.data[14] % 40), stop = UInt64(packet.data[15] % 48)
            returned += min(count, stop + 1)
        }
        #expect(results[.loopReturned] == returned)
        #expect(results[.loopStoppedAt] == returned, "the callback runs once per iteration counted")
        #expect(results[.loopBadFlags] == UInt64(bitPattern: -22), "bpf_loop with flags: -EINVAL")
        #expect(results[.loopTooMany] == UInt64(UInt32(bitPattern: -7)), "bpf_loop past 1<<23: -E2BIG, from a 32-bit move")
        #expect(results[.loopZero] == 0)
        #expect(results[.arrayBadFlags] == UInt64(bitPattern: -22), "for_each_map_elem with flags: -EINVAL")
        #expect(results[.arrayReturned] == results[.arrayVisits])
        #expect(results[.arrayVisits, default: 0] < UInt64(8 * Self.packets.count), "some walks stopped early")
        #expect(results[.hashDeleted, default: 0] > 0 && results[.lruVisits, default: 0] > 0)
        #expect(results[.hashStopped] == results[.hashVisits])
        #expect(results[.lruReturned] == results[.lruVisits])
    }

    static func results(_ outcome: FixtureOutcome) -> [Result: UInt64] {
        var results: [Result: UInt64] = [:]
        for entry in outcome.maps["results"] ?? [] {
            if let result = Result(rawValue: Int(le32(entry.key))) { results[result] = le64(entry.value, at: 0) }
        }
        return results
    }

    /// Runs `body` with this thread on processor 0, then as it was. Glibc's module leaves
    /// out sched_setaffinity (it is _GNU_SOURCE), so it is looked up by name.
    static func onProcessorZero<T>(_ body: () throws -> T) throws -> T {
        typealias Affinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
        guard let get = dlsym(nil, "sched_getaffinity"), let set = dlsym(nil, "sched_setaffinity") else {
            throw RuntimeFixture.SetupError(description: "the C library has no sched_setaffinity")
        }
        let (getAffinity, setAffinity) = (unsafeBitCast(get, to: Affinity.self), unsafeBitCast(set, to: Affinity.self))
        var previous = [UInt8](repeating: 0, count: 128), zero = [UInt8](repeating: 0, count: 128)
        zero[0] = 1
        guard getAffinity(0, 128, &previous) == 0, setAffinity(0, 128, &zero) == 0 else {
            throw RuntimeFixture.SetupError(description: "this thread cannot be moved to processor 0: errno \(errno)")
        }
        defer { _ = setAffinity(0, 128, &previous) }
        return try body()
    }
}
#endif
