import BPFObject
@testable import BPFVM
import Synchronization
import Testing

/// Programs' lookups in hashes and LPM tries take no lock. Here reader threads look up while
/// writer threads insert, delete and update around them, in the same buckets and the same
/// subtrees: a key that stays in the map must always be found, at the address it has had all
/// along; a key never inserted must never be; a key that comes and goes may be found or not,
/// but only ever at one of the map's value addresses.
@Suite struct LockFreeLookupTests {
    static let writers = 2, readers = 2
    static let writerRounds = 20_000

    /// Writers run `write(thread, round)`, readers run `read(thread)` until every writer is done;
    /// returns the failures the readers counted.
    static func race(write: @escaping @Sendable (Int, Int) -> Void, read: @escaping @Sendable (Int) -> Int) -> Int {
        let done = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        UserspaceMapConcurrencyTests.onThreads { thread in
            if thread < writers {
                for round in 0..<writerRounds { write(thread, round) }
                done.add(1, ordering: .releasing)
            } else {
                // At least one pass even if the writers finished first.
                repeat {
                    failures.add(read(thread), ordering: .relaxed)
                } while done.load(ordering: .acquiring) < writers
            }
        }
        return failures.load(ordering: .relaxed)
    }

    static func inside(_ pointer: UnsafeMutableRawPointer, _ region: MemoryRegion, stride: Int) -> Bool {
        let address = UInt64(UInt(bitPattern: pointer))
        return region.contains(address, size: 1) && (address - region.start) % UInt64(stride) == 0
    }

    /// An LPM trie key: prefix length, then an IPv4 address.
    static func key(_ length: UInt32, _ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> (UInt32, UInt8, UInt8, UInt8, UInt8) {
        (length, a, b, c, d)
    }

    @Test func hashLookupsFindStayingKeysWhileOthersComeAndGo() throws {
        // 256 elements in 256 buckets: the keys that come and go share chains with those that stay.
        let map = try #require(try makeUserspaceMap(spec: UserspaceMapConcurrencyTests.spec(.hash, key: 8, value: 8, entries: 256)) as? HashMap)
        let staying = (0..<96).map { UInt64($0) * 7919 }
        var addresses: [UInt] = []
        for key in staying {
            var key = key, value = key
            #expect(map.programUpdate(key: &key, value: &value, flags: 0, cpu: 0) == 0)
            addresses.append(UInt(bitPattern: try #require(map.programLookup(key: &key, cpu: 0))))
        }
        let stayingAddresses = addresses
        let storage = map.storage[0]
        let failures = Self.race(write: { thread, round in
            var key = UInt64(1 << 40) | UInt64(thread) << 32 | UInt64(round % 160)
            var value = UInt64(round)
            _ = map.programUpdate(key: &key, value: &value, flags: 0, cpu: thread)
            var old = UInt64(1 << 40) | UInt64(thread) << 32 | UInt64((round + 80) % 160)
            _ = map.programDelete(key: &old)
        }, read: { thread in
            var failures = 0
            for (index, key) in staying.enumerated() {
                var key = key
                let found = map.programLookup(key: &key, cpu: thread)
                if found.map({ UInt(bitPattern: $0) }) != stayingAddresses[index] { failures += 1 }
                var never = key | 1 << 50
                if map.programLookup(key: &never, cpu: thread) != nil { failures += 1 }
                var coming = UInt64(1 << 40) | UInt64(index % 2) << 32 | UInt64(index)
                if let pointer = map.programLookup(key: &coming, cpu: thread), !Self.inside(pointer, storage, stride: 8) { failures += 1 }
            }
            return failures
        })
        #expect(failures == 0)
        // The staying keys kept their values; the table is whole.
        for key in staying { #expect(try map.lookup(key: UserspaceMapConcurrencyTests.bytes(key)) == UserspaceMapConcurrencyTests.bytes(key)) }
        let keys = try map.keys()
        #expect(Set(keys).count == keys.count && keys.count == map.count)
    }

    static func host(_ thread: Int, _ slot: Int) -> (UInt32, UInt8, UInt8, UInt8, UInt8) {
        key(32, 10, 1, UInt8(thread * 50 + slot % 50), UInt8(slot / 50 * 60 + 1))
    }

    static func subnet(_ thread: Int, _ slot: Int) -> (UInt32, UInt8, UInt8, UInt8, UInt8) {
        key(24, 10, 1, UInt8(thread * 50 + slot % 50), 0)
    }

    @Test func lpmLookupsFindTheLongestStayingPrefixWhileTheTrieChangesAroundIt() throws {
        let map = try #require(try makeUserspaceMap(spec: UserspaceMapConcurrencyTests.spec(.longestPrefixMatchTrie, key: 8, value: 4,
                                                                                           entries: 1024, flags: 1)) as? LPMTrieMap)
        // Staying: 10/8 and 10.1/16. Coming and going: /32s and /24s inside 10.1.0-99, which
        // split and join the nodes on the path to 10.1.200.x.
        var wide = Self.key(8, 10, 0, 0, 0), narrow = Self.key(16, 10, 1, 0, 0)
        var value: UInt32 = 8
        #expect(map.programUpdate(key: &wide, value: &value, flags: 0, cpu: 0) == 0)
        value = 16
        #expect(map.programUpdate(key: &narrow, value: &value, flags: 0, cpu: 0) == 0)
        var probeWide = Self.key(32, 10, 3, 0, 1), probeNarrow = Self.key(32, 10, 1, 200, 1)
        let wideAddress = UInt(bitPattern: try #require(map.programLookup(key: &probeWide, cpu: 0)))
        let narrowAddress = UInt(bitPattern: try #require(map.programLookup(key: &probeNarrow, cpu: 0)))
        let storage = map.storage[0]
        // Each writer inserts 200 hosts and subnets of its half of 10.1.0-99 in turn, deleting
        // those it inserted 100 rounds before.
        let failures = Self.race(write: { thread, round in
            let slot = round % 200, old = (round + 100) % 200
            var fresh = Self.host(thread, slot)
            var value: UInt32 = 32
            _ = map.programUpdate(key: &fresh, value: &value, flags: 0, cpu: thread)
            var gone = Self.host(thread, old)
            _ = map.programDelete(key: &gone)
            if slot % 4 == 0 {
                var net = Self.subnet(thread, slot)
                value = 24
                _ = map.programUpdate(key: &net, value: &value, flags: 0, cpu: thread)
                net = Self.subnet(thread, old)
                _ = map.programDelete(key: &net)
            }
        }, read: { thread in
            var failures = 0
            for last in UInt8(0)..<64 {
                var inNarrow = Self.key(32, 10, 1, 200 + last % 50, last)
                if map.programLookup(key: &inNarrow, cpu: thread).map({ UInt(bitPattern: $0) }) != narrowAddress { failures += 1 }
                var inWide = Self.key(32, 10, 2 + last % 100, last, 1)
                if map.programLookup(key: &inWide, cpu: thread).map({ UInt(bitPattern: $0) }) != wideAddress { failures += 1 }
                var outside = Self.key(32, 11, 1, last, 1)
                if map.programLookup(key: &outside, cpu: thread) != nil { failures += 1 }
                var changing = Self.key(32, 10, 1, last % 100, last)
                if let pointer = map.programLookup(key: &changing, cpu: thread), !Self.inside(pointer, storage, stride: 8) { failures += 1 }
            }
            return failures
        })
        #expect(failures == 0)
        // The trie is whole: every key once, in postorder, and both staying prefixes there.
        let keys = try map.keys()
        #expect(Set(keys).count == keys.count)
        #expect(keys.last == [8, 0, 0, 0, 10, 0, 0, 0])
        #expect(try map.lookup(key: [16, 0, 0, 0, 10, 1, 0, 0]) == [16, 0, 0, 0])
    }
}
