import BPFObject
import BPFVM
import Foundation
import Synchronization
import Testing

/// Several threads hammering one map at once, as programs running on several threads do, then
/// the map's invariants checked: nothing lost, nothing twice, never over its size.
@Suite struct UserspaceMapConcurrencyTests {
    static let threads = 4

    /// Runs `body` on `threads` threads of their own, all at once (a dispatch pool may run
    /// fewer at a time, and the ring buffer's consumer must run beside its producers).
    static func onThreads(_ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in 0..<threads {
            group.enter()
            Thread {
                body(index)
                group.leave()
            }.start()
        }
        group.wait()
    }

    static func spec(_ type: MapType, key: UInt32, value: UInt32, entries: UInt32, flags: UInt32 = 0) -> MapSpec {
        MapSpec(name: "hammered", sectionName: ".maps", origin: .btf, type: type, keySize: key, valueSize: value,
                maxEntries: entries, flags: flags)
    }

    static func bytes<T: BitwiseCopyable>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    @Test func hashKeepsEveryThreadsLastWrite() throws {
        let map = try makeUserspaceMap(spec: Self.spec(.hash, key: 8, value: 8, entries: 4096))
        let failures = Atomic<Int>(0)
        Self.onThreads { thread in
            // Each thread inserts, rewrites and deletes its own keys; all of them also read and
            // rewrite a few shared keys.
            for round in 0..<3000 {
                var key = UInt64(thread) << 32 | UInt64(round % 700)
                var value = UInt64(round)
                if map.programUpdate(key: &key, value: &value, flags: 0, cpu: thread) != 0 { failures.add(1, ordering: .relaxed) }
                if round % 3 == 0 {
                    var old = UInt64(thread) << 32 | UInt64((round + 350) % 700)
                    _ = map.programDelete(key: &old)
                }
                var shared = UInt64(round % 8) | 1 << 62
                _ = map.programUpdate(key: &shared, value: &value, flags: 0, cpu: thread)
                if let pointer = map.programLookup(key: &key, cpu: thread), pointer.load(as: UInt64.self) > 3000 {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        // What each thread wrote last is there, unless it deleted it after; the walk sees every key once.
        let keys = try #require(map as? UserspaceMapBase).keys()
        #expect(Set(keys).count == keys.count)
        for thread in 0..<Self.threads {
            for slot in 0..<700 {
                let key = UInt64(thread) << 32 | UInt64(slot)
                let lastWrite = (0..<3000).last { $0 % 700 == slot } ?? 0
                let lastDelete = (0..<3000).last { $0 % 3 == 0 && ($0 + 350) % 700 == slot } ?? -1
                let value = try map.lookup(key: Self.bytes(key))
                #expect(value == (lastWrite > lastDelete ? Self.bytes(UInt64(lastWrite)) : nil), "thread \(thread) slot \(slot)")
            }
        }
        #expect(keys.count == Set(keys).count && keys.count <= 4096 && keys.count >= 8)
    }

    @Test func fullLRUHashUnderManyThreadsNeverOverflows() throws {
        let map = try makeUserspaceMap(spec: Self.spec(.lruHash, key: 4, value: 4, entries: 64))
        let hash = try #require(map as? HashMap)
        let failures = Atomic<Int>(0)
        Self.onThreads { thread in
            for round in 0..<5000 {
                var key = UInt32(thread * 1_000_000 + round)
                if map.programUpdate(key: &key, value: &key, flags: 0, cpu: thread) != 0 { failures.add(1, ordering: .relaxed) }
                if hash.count > 64 { failures.add(1, ordering: .relaxed) }
                if let value = map.programLookup(key: &key, cpu: thread), value.load(as: UInt32.self) != key {
                    // Another thread may have evicted and reused it meanwhile; the value is then
                    // another key's, never garbage.
                    if value.load(as: UInt32.self) % 1_000_000 >= 5000 { failures.add(1, ordering: .relaxed) }
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        let keys = try hash.keys()
        #expect(keys.count == 64 && Set(keys).count == 64)
        for key in keys { #expect(try hash.lookup(key: key) == key) }
    }

    @Test func perCPUArrayCountsEveryIncrement() throws {
        let map = try makeUserspaceMap(spec: Self.spec(.perCPUArray, key: 4, value: 8, entries: 4), cpuCount: Self.threads)
        Self.onThreads { cpu in
            for round in 0..<20000 {
                var index = UInt32(round % 4)
                // A program on its own CPU: no other thread writes this slot.
                if let counter = map.programLookup(key: &index, cpu: cpu) {
                    counter.storeBytes(of: counter.load(as: UInt64.self) + 1, as: UInt64.self)
                }
            }
        }
        for index in UInt32(0)..<4 {
            let value = try #require(try map.lookup(key: Self.bytes(index)))
            let counts = (0..<Self.threads).map { cpu in value.withUnsafeBytes { $0.load(fromByteOffset: cpu * 8, as: UInt64.self) } }
            #expect(counts == [UInt64](repeating: 5000, count: Self.threads))
        }
    }

    @Test func queueHandsEveryValueOutOnce() throws {
        let map = try makeUserspaceMap(spec: Self.spec(.queue, key: 0, value: 8, entries: 256))
        let queue = try #require(map as? QueueStackMap)
        let popped = Mutex<[UInt64]>([])
        let refused = Atomic<Int>(0)
        Self.onThreads { thread in
            var mine: [UInt64] = []
            for round in 0..<4000 {
                if thread % 2 == 0 {
                    var value = UInt64(thread) << 32 | UInt64(round)
                    if queue.programPush(value: &value, flags: 0) != 0 { refused.add(1, ordering: .relaxed) }
                } else {
                    var value: UInt64 = 0
                    if queue.programPop(into: &value) == 0 { mine.append(value) }
                }
            }
            popped.withLock { $0 += mine }
        }
        var all = popped.withLock { $0 }
        while let value = try queue.pop() { all.append(value.withUnsafeBytes { $0.load(as: UInt64.self) }) }
        #expect(Set(all).count == all.count)
        #expect(all.count + refused.load(ordering: .relaxed) == 2 * 4000)
    }

    @Test func ringBufferDeliversEveryProducersRecordsInOrder() throws {
        let map = try makeUserspaceMap(spec: Self.spec(.ringBuffer, key: 0, value: 0, entries: 1 << 14))
        let ring = try #require(map as? RingBufferMap)
        let done = Atomic<Int>(0)
        let received = Mutex<[UInt64]>([])
        let producers = Self.threads - 1
        Self.onThreads { thread in
            if thread == producers {
                var seen: [UInt64] = []
                while true {
                    let finished = done.load(ordering: .acquiring) == producers
                    ring.consume { seen.append($0.load(as: UInt64.self)) }
                    if finished { break }
                }
                received.withLock { $0 = seen }
                return
            }
            var round: UInt64 = 0
            while round < 3000 {
                var record = UInt64(thread) << 32 | round
                if ring.output(&record, count: 8) == 0 { round += 1 }
            }
            done.add(1, ordering: .releasing)
        }
        let all = received.withLock { $0 }
        #expect(all.count == producers * 3000)
        for producer in 0..<producers {
            let sequence = all.filter { $0 >> 32 == UInt64(producer) }.map { $0 & 0xFFFF_FFFF }
            #expect(sequence == (0..<3000).map { UInt64($0) })
        }
    }

    @Test func bloomFilterLosesNoBitUnderConcurrentPushes() throws {
        let map = try makeUserspaceMap(spec: Self.spec(.bloomFilter, key: 0, value: 8, entries: 20000))
        let bloom = try #require(map as? BloomFilterMap)
        Self.onThreads { thread in
            for round in 0..<5000 {
                var value = UInt64(thread) << 32 | UInt64(round)
                _ = bloom.programPush(value: &value, flags: 0)
            }
        }
        for thread in 0..<Self.threads {
            for round in 0..<5000 {
                #expect(try bloom.mayContain(Self.bytes(UInt64(thread) << 32 | UInt64(round))))
            }
        }
    }

    @Test func lpmTrieKeepsEachThreadsPrefixes() throws {
        let map = try makeUserspaceMap(spec: Self.spec(.longestPrefixMatchTrie, key: 8, value: 4, entries: 8192, flags: 1))
        Self.onThreads { thread in
            for round in 0..<2000 {
                // 10.thread.x.y/32, every fourth deleted again; 10.thread/16 by all of them.
                var key: (UInt32, UInt8, UInt8, UInt8, UInt8) = (32, 10, UInt8(thread), UInt8(round / 256), UInt8(round % 256))
                var value = UInt32(round)
                _ = map.programUpdate(key: &key, value: &value, flags: 0, cpu: thread)
                if round % 4 == 3 { _ = map.programDelete(key: &key) }
                var wide: (UInt32, UInt8, UInt8, UInt8, UInt8) = (16, 10, UInt8(thread), 0, 0)
                _ = map.programUpdate(key: &wide, value: &value, flags: 0, cpu: thread)
            }
        }
        let keys = try #require(map as? UserspaceMapBase).keys()
        #expect(Set(keys).count == keys.count)
        #expect(keys.count == Self.threads * 1501)
    }
}
