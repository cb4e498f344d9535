#if os(Linux)
import BPFLinux
import BPFObject
import Foundation
import Glibc
import Testing

/// Walking maps while they change, and batch operations.
@Suite struct MapIterationTests {
    typealias K = KernelTests

    @Test func iterationWhileDeletingTheCurrentKeyVisitsEachKeyOnce() throws {
        try K.run {
            let map = try TypedMap<UInt32, UInt64>(Map(type: .hash, keySize: 4, valueSize: 8, maxEntries: 256))
            defer { map.map.close() }
            for key in UInt32(0)..<200 { try map.update(key, UInt64(key)) }
            // Deleting each key as it comes makes the kernel start over from the first key.
            var iterator = map.map.makeKeyIterator()
            var visited: [UInt32] = []
            while let key = try iterator.next() {
                visited.append(K.value(key))
                try map.map.delete(key: key)
            }
            #expect(visited.count == 200)
            #expect(Set(visited) == Set(0..<200))
            #expect(try map.keys().isEmpty)
        }
    }

    @Test func iterationWhileDeletingOtherKeysAndInserting() throws {
        try K.run {
            let map = try TypedMap<UInt32, UInt64>(Map(type: .hash, keySize: 4, valueSize: 8, maxEntries: 512))
            defer { map.map.close() }
            for key in UInt32(0)..<100 { try map.update(key, UInt64(key)) }
            var iterator = map.map.makeKeyIterator()
            var visited: [UInt32] = []
            var deleted: Set<UInt32> = []
            while let raw = try iterator.next() {
                let key: UInt32 = K.value(raw)
                visited.append(key)
                // Every third step: delete the current key (restart) and one not seen yet.
                if visited.count % 3 == 0 {
                    try map.delete(key)
                    let victim = (key + 50) % 100
                    if !visited.contains(victim), try map.delete(victim) { deleted.insert(victim) }
                }
            }
            #expect(Set(visited).count == visited.count, "a key came twice")
            #expect(Set(visited).union(deleted) == Set(0..<100))
            #expect(Set(visited).isDisjoint(with: deleted))
        }
    }

    @Test func aMapThatNeverSettlesEndsTheWalkWithAnError() throws {
        try K.run {
            let map = try TypedMap<UInt32, UInt64>(Map(type: .hash, keySize: 4, valueSize: 8, maxEntries: 16))
            defer { map.map.close() }
            try map.update(0, 0)
            var iterator = map.map.makeKeyIterator()
            var next: UInt32 = 1
            // Each step removes the current key and adds a new one: a walk without end.
            let error = #expect(throws: BPFError.self) {
                while let key = try iterator.next() {
                    try map.map.delete(key: key)
                    try map.update(next, 0)
                    next += 1
                }
            }
            #expect(error?.errno == EAGAIN)
            #expect(error?.detail?.contains("gave up after \(iterator.stepLimit) steps") == true)
            #expect(try iterator.next() == nil)
        }
    }

    @Test func entriesSkipKeysThatVanish() throws {
        try K.run {
            let map = try Map(type: .hash, keySize: 4, valueSize: 4, maxEntries: 8)
            defer { map.close() }
            for key in UInt32(0)..<5 { try map.update(key: K.bytes(key), value: K.bytes(key * 10)) }
            let entries = try map.entries()
            #expect(entries.count == 5)
            for (key, value) in entries { #expect(K.value(value, as: UInt32.self) == K.value(key, as: UInt32.self) * 10) }
        }
    }

    @Test func batchLookupUpdateAndDeleteOnAHash() throws {
        try K.run {
            let map = try Map(type: .hash, keySize: 4, valueSize: 8, maxEntries: 2048, name: "batch_hash")
            defer { map.close() }
            let keys = (UInt32(0)..<1000).map { K.bytes($0) }
            let values = (UInt64(0)..<1000).map { K.bytes($0 * 3) }
            try map.updateBatch(keys: keys, values: values)
            #expect(try map.keys().count == 1000)

            // Small batches: several calls, ENOENT ending the last; big buckets grow the batch.
            let read = try map.lookupBatch(batchSize: 7)
            #expect(read.count == 1000)
            var seen: [UInt32: UInt64] = [:]
            for (key, value) in read { seen[K.value(key, as: UInt32.self)] = K.value(value, as: UInt64.self) }
            #expect(seen.count == 1000)
            #expect(seen.allSatisfy { $0.value == UInt64($0.key) * 3 })

            #expect(try map.deleteBatch(keys: Array(keys[0..<250])) == 250)
            #expect(try map.keys().count == 750)
            let missing = #expect(throws: BPFError.self) { try map.deleteBatch(keys: [keys[0], keys[300]]) }
            #expect(missing?.errno == ENOENT)
            #expect(missing?.detail == "0 of 2 keys were deleted before the failure")

            let drained = try map.lookupBatch(batchSize: 64, delete: true)
            #expect(drained.count == 750)
            #expect(try map.keys().isEmpty)

            let mismatch = #expect(throws: BPFError.self) { try map.updateBatch(keys: [keys[0]], values: []) }
            #expect(mismatch?.detail == "1 keys but 0 values")
        }
    }

    @Test func batchOnArraysAndPerCPUMaps() throws {
        try K.run {
            let array = try Map(type: .array, keySize: 4, valueSize: 4, maxEntries: 100)
            defer { array.close() }
            try array.updateBatch(keys: (UInt32(0)..<100).map { K.bytes($0) }, values: (UInt32(0)..<100).map { K.bytes($0 + 1) })
            let all = try array.lookupBatch(batchSize: 30)
            #expect(all.count == 100)
            #expect(all.allSatisfy { K.value($0.value, as: UInt32.self) == K.value($0.key, as: UInt32.self) + 1 })

            let perCPU = try Map(type: .perCPUHash, keySize: 4, valueSize: 8, maxEntries: 64)
            defer { perCPU.close() }
            let typed = try PerCPUMap<UInt32, UInt64>(perCPU)
            for key in UInt32(0)..<40 { try typed.update(key, (0..<typed.cpuCount).map { UInt64(key) * 100 + UInt64($0) }) }
            let entries = try perCPU.lookupBatch(batchSize: 16)
            #expect(entries.count == 40)
            for (key, value) in entries {
                #expect(value.count == perCPU.valueBufferSize)
                let k: UInt32 = K.value(key)
                for cpu in 0..<typed.cpuCount {
                    #expect(K.value(Array(value[cpu * 8..<cpu * 8 + 8]), as: UInt64.self) == UInt64(k) * 100 + UInt64(cpu))
                }
            }
        }
    }
}
#endif
