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
    static let writerRounds = 100_000

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

    /// Keys of an 8-byte-key hash with a zero seed that fall in `bucket` of `buckets`, from `from` up.
    static func keys(inBucket bucket: Int, of buckets: Int, count: Int, from: UInt64) -> [UInt64] {
        var found: [UInt64] = []
        var candidate = from
        while found.count < count {
            var key = candidate
            if Int(truncatingIfNeeded: hashKey(&key, count: 8, seed: 0)) & (buckets - 1) == bucket { found.append(candidate) }
            candidate += 1
        }
        return found
    }

    @Test func hashLookupsFindStayingKeysWhileOthersComeAndGo() throws {
        // A zero seed makes the buckets known: the staying keys and half the coming and going
        // ones share bucket 0, whose chain is long; the other half go to bucket 1, so an element
        // deleted from bucket 0 is soon reused in bucket 1, under a lookup that may be standing
        // on it. That lookup must notice and walk again, or it misses the keys behind.
        let map = try #require(try makeUserspaceMap(spec: UserspaceMapConcurrencyTests.spec(.hash, key: 8, value: 8, entries: 64,
                                                                                           flags: MapCreationFlag.zeroSeed)) as? HashMap)
        let staying = Self.keys(inBucket: 0, of: 64, count: 16, from: 0)
        let coming = [Self.keys(inBucket: 0, of: 64, count: 20, from: 1 << 40), Self.keys(inBucket: 1, of: 64, count: 20, from: 1 << 40)]
        let never = Self.keys(inBucket: 0, of: 64, count: 16, from: 1 << 50)
        var addresses: [UInt] = []
        for key in staying {
            var key = key, value = key
            #expect(map.programUpdate(key: &key, value: &value, flags: 0, cpu: 0) == 0)
            let pointer = try #require(map.programLookup(key: &key, cpu: 0))
            addresses.append(UInt(bitPattern: pointer))
        }
        let stayingAddresses = addresses
        let storage = map.storage[0]
        let failures = Self.race(write: { thread, round in
            // Writer 0 inserts in bucket 0 and deletes from bucket 1; writer 1 the other way round.
            let slot = round % 20
            var key = coming[thread][slot]
            var value = UInt64(round)
            _ = map.programUpdate(key: &key, value: &value, flags: 0, cpu: thread)
            var old = coming[1 - thread][(slot + 10) % 20]
            _ = map.programDelete(key: &old)
        }, read: { thread in
            var failures = 0
            for (index, key) in staying.enumerated() {
                var key = key
                if map.programLookup(key: &key, cpu: thread).map({ UInt(bitPattern: $0) }) != stayingAddresses[index] { failures += 1 }
                var absent = never[index]
                if map.programLookup(key: &absent, cpu: thread) != nil { failures += 1 }
                var changing = coming[index % 2][index]
                if let pointer = map.programLookup(key: &changing, cpu: thread), !Self.inside(pointer, storage, stride: 8) { failures += 1 }
            }
            return failures
        })
        #expect(failures == 0)
        // The staying keys kept their values; the table is whole.
        for key in staying { #expect(try map.lookup(key: UserspaceMapConcurrencyTests.bytes(key)) == UserspaceMapConcurrencyTests.bytes(key)) }
        let keys = try map.keys()
        #expect(Set(keys).count == keys.count && keys.count == map.count)
    }

    @Test func lpmLookupsFindTheLongestStayingPrefixWhileTheTrieChangesAroundIt() throws {
        let map = try #require(try makeUserspaceMap(spec: UserspaceMapConcurrencyTests.spec(.longestPrefixMatchTrie, key: 8, value: 4,
                                                                                           entries: 1024, flags: 1)) as? LPMTrieMap)
        // Staying: 10/8, 10.1/16 and five /24s inside 10.1.0-99. Coming and going: hosts in
        // the /24s beside them, whose intermediate nodes sit on the lookups' paths.
        let stayingSubnets: [UInt8] = [10, 30, 50, 70, 90]
        var prefixes = [Self.key(8, 10, 0, 0, 0), Self.key(16, 10, 1, 0, 0)] + stayingSubnets.map { Self.key(24, 10, 1, $0, 0) }
        for index in prefixes.indices {
            var value = UInt32(index)
            #expect(map.programUpdate(key: &prefixes[index], value: &value, flags: 0, cpu: 0) == 0)
        }
        // Where each staying prefix's value lives, found through an address only it holds.
        var probes = [Self.key(32, 10, 3, 0, 1), Self.key(32, 10, 1, 200, 1)] + stayingSubnets.map { Self.key(32, 10, 1, $0, 250) }
        var found: [UInt] = []
        for index in probes.indices {
            let pointer = try #require(map.programLookup(key: &probes[index], cpu: 0))
            found.append(UInt(bitPattern: pointer))
        }
        let addresses = found
        let storage = map.storage[0]
        let failures = Self.race(write: { thread, round in
            // Next to one staying /24 after another: a host in the neighbouring /24 comes (an
            // intermediate node parts the two) and the last one goes (its node and the
            // intermediate freed, to be taken again at once for the next).
            let mine = thread == 0 ? [10, 30, 50] : [70, 90]
            var fresh = Self.key(32, 10, 1, UInt8(mine[round % mine.count] ^ 1), 1)
            var value: UInt32 = 32
            _ = map.programUpdate(key: &fresh, value: &value, flags: 0, cpu: thread)
            var gone = Self.key(32, 10, 1, UInt8(mine[(round + mine.count - 1) % mine.count] ^ 1), 1)
            _ = map.programDelete(key: &gone)
        }, read: { thread in
            var failures = 0
            for last in UInt8(0)..<16 {
                var inWide = Self.key(32, 10, 2 + last, last, 1)
                if map.programLookup(key: &inWide, cpu: thread).map({ UInt(bitPattern: $0) }) != addresses[0] { failures += 1 }
                var inNarrow = Self.key(32, 10, 1, 100 + last, 250)
                if map.programLookup(key: &inNarrow, cpu: thread).map({ UInt(bitPattern: $0) }) != addresses[1] { failures += 1 }
                for (index, subnet) in stayingSubnets.enumerated() {
                    var inSubnet = Self.key(32, 10, 1, subnet, 240 + last % 16)
                    if map.programLookup(key: &inSubnet, cpu: thread).map({ UInt(bitPattern: $0) }) != addresses[2 + index] { failures += 1 }
                }
                var outside = Self.key(32, 11, 1, last, 1)
                if map.programLookup(key: &outside, cpu: thread) != nil { failures += 1 }
                var changing = Self.key(32, 10, 1, stayingSubnets[Int(last) % 5] ^ 1, 1)
                if let pointer = map.programLookup(key: &changing, cpu: thread), !Self.inside(pointer, storage, stride: 8) { failures += 1 }
            }
            return failures
        })
        #expect(failures == 0)
        // The trie is whole: every key once, in postorder, and the staying prefixes there.
        let keys = try map.keys()
        #expect(Set(keys).count == keys.count)
        #expect(keys.last == [8, 0, 0, 0, 10, 0, 0, 0])
        #expect(try map.lookup(key: [16, 0, 0, 0, 10, 1, 0, 0]) == [1, 0, 0, 0])
        #expect(try map.lookup(key: [24, 0, 0, 0, 10, 1, 50, 0]) == [4, 0, 0, 0])
    }
}
