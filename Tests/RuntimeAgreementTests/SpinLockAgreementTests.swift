#if os(Linux)
import BPFInstructions
import BPFLinux
import BPFVM
import Foundation
import Synchronization
import Testing
import TestPeers

extension RuntimeFixture {
    static let spinLocks = RuntimeFixture(name: "spin_locks", kind: .xdp)
}

/// bpf_spin_lock and bpf_spin_unlock in BPFVM (JIT and interpreter) against the kernel's
/// BPF_PROG_TEST_RUN, with the `spin_locks` fixture: counters under the lock in an array and
/// a hash map, whole values written with and without BPF_F_LOCK, and host writes whose lock
/// bytes the kernel does not copy. Then the same program on several threads at once in the VM:
/// the counts come out exact only if the lock excludes.
@Suite(.serialized)
struct SpinLockAgreementTests {
    /// 64 frames of 64 bytes, from a fixed generator: the same every run.
    static let packets = CorpusPackets.generated(seed: 0x2545_f491)

    @Test(arguments: [EngineKind.jit, .interpreter])
    func spinLocksAgreeWithTheKernel(engine: EngineKind) throws {
        var kernel: FixtureOutcome?
        try KernelPeer.run { kernel = try KernelFixtureRun.run(.spinLocks, over: Self.packets) }
        guard let kernel else { return }   // no kernel: skipped with its reason
        let vm = try VMFixtureRun.run(.spinLocks, over: Self.packets, engine: engine)
        var report = AgreementReport()
        report.compare(.spinLocks, packets: Self.packets, kernel: kernel, vm: vm)
        for difference in report.differences { print("difference: \(difference)") }
        print("spin locks: \(report.summary) (\(engine))")
        #expect(report.failed == 0, "\(report.summary) (\(engine)): \(report.differences.prefix(5))")
        #expect(report.passed == Self.packets.count + 3, "each packet, both maps and .rodata")

        // From the packets alone, so that agreement on nothing cannot pass: every packet
        // counted once in each map, on top of what the host wrote (100 in slot 1, 200 in key 3).
        let counters = Self.counters(kernel)
        #expect(counters.array == UInt64(Self.packets.count) + 100)
        #expect(counters.hash == UInt64(Self.packets.count) + 200)
        #expect(counters.lockWords.allSatisfy { $0 == 0 }, "the host reads each lock word as zero")
    }

    @Test(arguments: [EngineKind.jit, .interpreter])
    func concurrentRunsCountEveryPacket(engine: EngineKind) throws {
        let object = try LoadedObject(file: RuntimeFixture.spinLocks.object(), engine: engine)
        let threads = 4, runs = 20000
        let programs = try (0..<threads).map { _ in try object.program(named: "spin_locks") }
        // One slot and one key for every packet; byte 19 even: the rewrite of key 6 or 7 takes no lock.
        var bytes = [UInt8](repeating: 0, count: 64)
        (bytes[14], bytes[15], bytes[16]) = (1, 2, 3)
        let frame = bytes
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for _ in 0..<runs {
                do {
                    let run = try programs[thread].run(packet: frame)
                    if run.verdict != 2 { failures.withLock { $0.append("thread \(thread): verdict \(run.verdict)") } }
                } catch {
                    failures.withLock { $0.append("thread \(thread): \(error)") }
                }
            }
        }
        #expect(failures.withLock { $0.isEmpty }, "\(failures.withLock { $0.prefix(3) })")
        let total = UInt64(threads * runs)
        let slot = try #require(try object.map(named: "locked_array")?.lookup(key: [1, 0, 0, 0]))
        let entry = try #require(try object.map(named: "locked_hash")?.lookup(key: [2, 0, 0, 0]))
        #expect(le64(slot, at: 0) == total, "packets counted in the array")
        #expect(le64(slot, at: 16) == 3 * total, "bytes counted in the array")
        #expect(le64(entry, at: 0) == total, "packets counted in the hash")
        #expect(le64(entry, at: 16) == 3 * total, "bytes counted in the hash")
    }

    /// Host writes with and without BPF_F_LOCK, on the kernel's maps and the VM's: the same
    /// errnos, and the same contents after, lock words read as zero although every value
    /// written sets them.
    @Test func hostWritesWithTheLockAgreeWithTheKernel() throws {
        let value = { (packets: UInt8) -> [UInt8] in [packets, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0] }
        // (map, key, packets, flags): BPF_F_LOCK alone, with BPF_NOEXIST / BPF_EXIST, past an array's end.
        let writes: [(String, UInt8, UInt8, UInt64)] = [
            ("locked_array", 2, 10, 4), ("locked_array", 2, 11, 4), ("locked_array", 3, 12, 0), ("locked_array", 9, 13, 4),
            ("locked_array", 1, 14, 5), ("locked_hash", 3, 20, 4), ("locked_hash", 3, 21, 4), ("locked_hash", 4, 22, 0),
            ("locked_hash", 4, 23, 5), ("locked_hash", 5, 24, 6), ("locked_hash", 4, 25, 6), ("locked_hash", 6, 26, 8),
        ]
        var kernelResults: [String] = [], kernelMaps: [String: [String]] = [:]
        try KernelPeer.run {
            let collection = try RuntimeFixture.spinLocks.object().load()
            defer { collection.close() }
            for (map, key, packets, flags) in writes {
                do {
                    try collection.map(map).update(key: [key, 0, 0, 0], value: value(packets), flags: Map.ElementFlags(rawValue: flags))
                    kernelResults.append("ok")
                } catch let error as BPFError { kernelResults.append("errno \(error.errno)") }
            }
            for map in ["locked_array", "locked_hash"] {
                kernelMaps[map] = try collection.map(map).entries().map { "\(Hex.short($0.key))=\(Hex.short($0.value))" }.sorted()
            }
        }
        guard !kernelResults.isEmpty else { return }   // no kernel: skipped with its reason
        let object = try LoadedObject(file: RuntimeFixture.spinLocks.object(), engine: .interpreter)
        var vmResults: [String] = []
        for (map, key, packets, flags) in writes {
            do {
                try #require(object.map(named: map)).update(key: [key, 0, 0, 0], value: value(packets), flags: MapUpdateFlags(rawValue: flags))
                vmResults.append("ok")
            } catch let error as MapError { vmResults.append("errno \(error.errno)") }
        }
        print("spin lock host writes: kernel \(kernelResults), VM \(vmResults)")
        #expect(vmResults == kernelResults)
        #expect(kernelResults.filter { $0 == "ok" }.count >= 6 && kernelResults.contains { $0 != "ok" })
        for map in ["locked_array", "locked_hash"] {
            let entries = try object.contents(ofMap: map).map { "\(Hex.short($0.key))=\(Hex.short($0.value))" }.sorted()
            #expect(entries == kernelMaps[map], "\(map)")
        }
    }

    /// The packets counted in each map, and every value's lock word (bytes 8–11).
    static func counters(_ outcome: FixtureOutcome) -> (array: UInt64, hash: UInt64, lockWords: [UInt32]) {
        let array = outcome.maps["locked_array"] ?? [], hash = (outcome.maps["locked_hash"] ?? []).filter { le32($0.key) < 6 }
        let words = (array + hash).map { UInt32(truncatingIfNeeded: le64($0.value, at: 8)) }
        return (array.reduce(0) { $0 + le64($1.value, at: 0) }, hash.reduce(0) { $0 + le64($1.value, at: 0) }, words)
    }
}
#endif
