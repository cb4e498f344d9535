#if os(Linux)
import BPFLinux
import BPFObject
import Foundation
import Testing
import TestPeers

/// A fixture in the running kernel: the object loaded whole (ObjectCollection), the setup
/// written into its maps, each packet through BPF_PROG_TEST_RUN, then every map read and the
/// ring buffers drained. Everything it opens is closed before it returns.
enum KernelFixtureRun {
    static func run(_ fixture: RuntimeFixture, over packets: [CorpusPackets.Packet]) throws -> FixtureOutcome {
        let object = try fixture.object()
        let collection = try object.load()
        defer { collection.close() }
        for write in try fixture.setup() {
            try collection.map(write.map).update(key: write.key, value: write.value)
        }
        let program = try collection.program(fixture.program)
        var outcome = FixtureOutcome()
        outcome.packets.reserveCapacity(packets.count)
        for packet in packets {
            do {
                let result = try program.testRun(data: packet.data)
                outcome.packets.append(.finished(verdict: result.returnValue, data: result.data))
            } catch where error.errno == EINVAL {
                outcome.packets.append(.refused("\(error)"))
            } catch {
                outcome.packets.append(.failed("\(error)"))
            }
        }
        for spec in object.maps {
            let map = try collection.map(spec.name)
            let name = spec.origin == .globalData ? spec.sectionName : spec.name
            if spec.type == .ringBuffer {
                outcome.records[name] = try records(of: map)
            } else {
                let entries = try map.entries().map { FixtureOutcome.MapEntry(key: $0.key, value: $0.value) }
                outcome.maps[name] = FixtureOutcome.sorted(entries)
            }
        }
        return outcome
    }

    /// Every record waiting in a ring buffer map, in order.
    static func records(of map: Map) throws -> [[UInt8]] {
        let reader = try RingBuffer(map)
        defer { reader.close() }
        var records: [[UInt8]] = []
        _ = reader.consume { records.append(Array($0)) }
        return records
    }
}

/// Kernel tests one at a time (`KernelTestLock`), skipped with a reason where bpf(2) is not
/// permitted unless SWIFTBPF_REQUIRE_KERNEL=1, and checked for bpf descriptors and
/// mappings left behind.
enum KernelPeer {
    static func run(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) throws {
        guard available(sourceLocation: sourceLocation) else { return }
        try KernelTestLock.run {
            let before = bpfObjects()
            try body()
            let left = bpfObjects().subtracting(before)
            #expect(left.isEmpty, "bpf objects left open or mapped: \(left.sorted())", sourceLocation: sourceLocation)
        }
    }

    static func available(sourceLocation: SourceLocation) -> Bool {
        do {
            try KernelTestLock.run { try Map(type: .array, keySize: 4, valueSize: 4, maxEntries: 1).close() }
            return true
        } catch {
            KernelRequirement.unavailable(error, sourceLocation: sourceLocation)
            return false
        }
    }

    /// "fd N → anon_inode:bpf-map" for every bpf descriptor, and each mapping of bpf map memory.
    static func bpfObjects() -> Set<String> {
        var objects: Set<String> = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)")) ?? ""
            if target.hasPrefix("anon_inode:bpf") || target == "anon_inode:btf" { objects.insert("fd \(entry) → \(target)") }
        }
        let mappings = (try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)) ?? ""
        for line in mappings.split(separator: "\n") where line.contains("anon_inode:bpf") {
            objects.insert("mapping \(line)")
        }
        return objects
    }
}
#endif
