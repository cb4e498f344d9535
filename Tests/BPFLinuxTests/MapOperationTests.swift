#if os(Linux)
import BPFLinux
import BPFObject
import Foundation
import Glibc
import Testing

/// Element operations on the common map types, on the real kernel.
@Suite struct MapOperationTests {
    typealias K = KernelTests

    @Test func hashMapCreatesReplacesAndDeletes() throws {
        try K.run {
            let map = try Map(type: .hash, keySize: 4, valueSize: 8, maxEntries: 4, name: "ops_hash")
            defer { map.close() }
            #expect(try map.lookup(key: K.bytes(UInt32(1))) == nil)
            try map.update(key: K.bytes(UInt32(1)), value: K.bytes(UInt64(10)))
            #expect(try map.lookup(key: K.bytes(UInt32(1))) == K.bytes(UInt64(10)))

            // BPF_NOEXIST refuses an existing key; BPF_EXIST a missing one.
            let exists = #expect(throws: BPFError.self) {
                try map.update(key: K.bytes(UInt32(1)), value: K.bytes(UInt64(11)), flags: .noExist)
            }
            #expect(exists?.errno == EEXIST)
            #expect(exists?.subject == "ops_hash")
            let missing = #expect(throws: BPFError.self) {
                try map.update(key: K.bytes(UInt32(2)), value: K.bytes(UInt64(20)), flags: .exist)
            }
            #expect(missing?.errno == ENOENT)
            try map.update(key: K.bytes(UInt32(1)), value: K.bytes(UInt64(12)), flags: .exist)
            try map.update(key: K.bytes(UInt32(2)), value: K.bytes(UInt64(20)), flags: .noExist)
            #expect(try map.lookup(key: K.bytes(UInt32(1))) == K.bytes(UInt64(12)))

            // Keys in the kernel's order, then the end.
            var keys: [UInt32] = []
            var key: [UInt8]? = nil
            while let next = try map.nextKey(after: key) {
                keys.append(K.value(next))
                key = next
            }
            #expect(keys.sorted() == [1, 2])

            #expect(try map.delete(key: K.bytes(UInt32(1))))
            #expect(try !map.delete(key: K.bytes(UInt32(1))))
            #expect(try map.lookupAndDelete(key: K.bytes(UInt32(2))) == K.bytes(UInt64(20)))
            #expect(try map.keys().isEmpty)

            // A full map says so.
            for index in UInt32(0)..<4 { try map.update(key: K.bytes(index), value: K.bytes(UInt64(index))) }
            let full = #expect(throws: BPFError.self) { try map.update(key: K.bytes(UInt32(9)), value: K.bytes(UInt64(9))) }
            #expect(full?.errno == E2BIG || full?.errno == ENOSPC)

            // Sizes are checked before the kernel sees them.
            let shortKey = #expect(throws: BPFError.self) { try map.lookup(key: [1, 2, 3]) }
            #expect(shortKey?.detail == "the key is 3 bytes; map 'ops_hash' has 4-byte keys")
            let shortValue = #expect(throws: BPFError.self) { try map.update(key: K.bytes(UInt32(1)), value: [1]) }
            #expect(shortValue?.detail == "the value buffer is 1 bytes; map 'ops_hash' needs 8")
        }
    }

    @Test func arrayMapHasEveryIndexAndCannotDelete() throws {
        try K.run {
            let map = try Map(type: .array, keySize: 4, valueSize: 8, maxEntries: 8, name: "ops_array")
            defer { map.close() }
            let typed = try TypedMap<UInt32, UInt64>(map)
            #expect(try typed.lookup(3) == 0)
            try typed.update(3, 33)
            #expect(try typed.lookup(3) == 33)
            #expect(try typed.lookup(8) == nil)
            #expect(try typed.keys() == Array(0..<8))
            let entries = try typed.entries()
            #expect(entries.map(\.value) == [0, 0, 0, 33, 0, 0, 0, 0])
            let delete = #expect(throws: BPFError.self) { try typed.delete(3) }
            #expect(delete?.errno == EINVAL)
            let create = #expect(throws: BPFError.self) { try typed.update(3, 1, flags: .noExist) }
            #expect(create?.errno == EEXIST)
            let outside = #expect(throws: BPFError.self) { try typed.update(8, 1) }
            #expect(outside?.errno == E2BIG)

            let wrong = #expect(throws: BPFError.self) { try TypedMap<UInt64, UInt64>(map) }
            #expect(wrong?.detail?.contains("UInt64 is 8 bytes and UInt64 8; the map's keys are 4 bytes and values 8") == true)
            let perCPU = #expect(throws: BPFError.self) { try PerCPUMap<UInt32, UInt64>(map) }
            #expect(perCPU?.detail?.contains("use TypedMap") == true)
        }
    }

    @Test func allocationFreeCallsOverBuffers() throws {
        try K.run {
            let map = try Map(type: .hash, keySize: 8, valueSize: 8, maxEntries: 8)
            defer { map.close() }
            var key: UInt64 = 7
            var value: UInt64 = 70
            try withUnsafeBytes(of: &key) { keyBytes in
                try withUnsafeBytes(of: &value) { valueBytes in try map.update(key: keyBytes, value: valueBytes) }
            }
            var read: UInt64 = 0
            let found = try withUnsafeBytes(of: &key) { keyBytes in
                try withUnsafeMutableBytes(of: &read) { readBytes in try map.lookup(key: keyBytes, into: readBytes) }
            }
            #expect(found && read == 70)
            var next: UInt64 = 0
            let more = try withUnsafeMutableBytes(of: &next) { nextBytes in try map.nextKey(after: nil, into: nextBytes) }
            #expect(more && next == 7)
        }
    }

    @Test func perCPUMapsHoldAValuePerPossibleCPU() throws {
        try K.run {
            let cpus = try PossibleCPUs.count()
            #expect(cpus >= 1)
            for type in [MapType.perCPUHash, .perCPUArray, .lruPerCPUHash] {
                let map = try Map(type: type, keySize: 4, valueSize: 4, maxEntries: 4, name: "ops_percpu")
                defer { map.close() }
                #expect(map.valueCount == cpus)
                // 4-byte values take 8 bytes each, as the kernel lays them out.
                #expect(map.valueBufferSize == cpus * 8)
                let typed = try PerCPUMap<UInt32, UInt32>(map)
                let values = (0..<cpus).map { UInt32(100 + $0) }
                try typed.update(1, values)
                #expect(try typed.lookup(1) == values)
                try typed.update(2, everyCPU: 5)
                #expect(try typed.lookup(2) == [UInt32](repeating: 5, count: cpus))
                let raw = try #require(try map.lookup(key: K.bytes(UInt32(1))))
                #expect(raw.count == cpus * 8)
                #expect(K.value(Array(raw[0..<4]), as: UInt32.self) == 100)
                let wrongCount = #expect(throws: BPFError.self) { try typed.update(1, [1]) }
                #expect(wrongCount?.detail?.contains("one per possible CPU") == true || cpus == 1)

                // bpftool shows the same values per CPU.
                guard K.bpftool() != nil, let dump = try K.bpftoolJSON(["map", "dump", "id", String(map.id)]) as? [[String: Any]] else { continue }
                let entry = dump.first { entry in
                    (entry["key"] as? [String]).map(Self.parseHex) == K.bytes(UInt32(1))
                }
                let shown = try #require(entry?["values"] as? [[String: Any]], "\(type.kernelName): \(dump)")
                #expect(shown.count == cpus)
                for item in shown {
                    let cpu = try #require(item["cpu"] as? Int)
                    let bytes = Self.parseHex(item["value"] as? [String] ?? [])
                    #expect(bytes == K.bytes(UInt32(100 + cpu)), "\(type.kernelName) cpu \(cpu)")
                }
            }
        }
    }

    @Test func lruHashEvictsInsteadOfFailing() throws {
        try K.run {
            let map = try Map(type: .lruHash, keySize: 4, valueSize: 8, maxEntries: 64)
            defer { map.close() }
            let typed = try TypedMap<UInt32, UInt64>(map)
            for key in UInt32(0)..<1000 { try typed.update(key, UInt64(key)) }
            let keys = try typed.keys()
            #expect(!keys.isEmpty && keys.count <= 64)
            #expect(try typed.lookup(999) == 999)
        }
    }

    @Test func longestPrefixMatchTrieFindsTheMostSpecificPrefix() throws {
        try K.run {
            let map = try Map(type: .longestPrefixMatchTrie, keySize: 8, valueSize: 4, maxEntries: 16, flags: .noPreallocation)
            defer { map.close() }
            // struct bpf_lpm_trie_key: host-order prefix length, then the address bytes.
            func key(_ length: UInt32, _ address: [UInt8]) -> [UInt8] { K.bytes(length) + address }
            try map.update(key: key(8, [10, 0, 0, 0]), value: K.bytes(UInt32(1)))
            try map.update(key: key(16, [10, 1, 0, 0]), value: K.bytes(UInt32(2)))
            try map.update(key: key(24, [10, 1, 2, 0]), value: K.bytes(UInt32(3)))
            func route(_ address: [UInt8]) throws -> UInt32? {
                try map.lookup(key: key(32, address)).map { K.value($0) }
            }
            #expect(try route([10, 1, 2, 3]) == 3)
            #expect(try route([10, 1, 9, 9]) == 2)
            #expect(try route([10, 9, 9, 9]) == 1)
            #expect(try route([11, 0, 0, 1]) == nil)
            #expect(try map.delete(key: key(16, [10, 1, 0, 0])))
            #expect(try route([10, 1, 9, 9]) == 1)
            #expect(try route([10, 1, 2, 3]) == 3)
            #expect(Set(try map.keys()) == [key(8, [10, 0, 0, 0]), key(24, [10, 1, 2, 0])])
        }
    }

    @Test func queueAndStackPushAndPop() throws {
        try K.run {
            let queue = try TypedMap<Void, UInt64>(Map(type: .queue, keySize: 0, valueSize: 8, maxEntries: 3, name: "ops_queue"))
            let stack = try TypedMap<Void, UInt64>(Map(type: .stack, keySize: 0, valueSize: 8, maxEntries: 3, name: "ops_stack"))
            defer {
                queue.map.close()
                stack.map.close()
            }
            for value in UInt64(1)...3 {
                try queue.push(value)
                try stack.push(value)
            }
            let full = #expect(throws: BPFError.self) { try queue.push(4) }
            #expect(full?.errno == E2BIG)
            // BPF_EXIST makes a full queue drop its oldest value.
            try queue.push(4, flags: .exist)
            #expect(try queue.peek() == 2)
            #expect(try queue.pop() == 2)
            #expect(try queue.pop() == 3)
            #expect(try queue.pop() == 4)
            #expect(try queue.pop() == nil)
            #expect(try stack.peek() == 3)
            #expect(try stack.pop() == 3)
            #expect(try stack.pop() == 2)
            #expect(try stack.pop() == 1)
            #expect(try stack.pop() == nil)
        }
    }

    @Test func bloomFilterNeverForgets() throws {
        try K.run {
            let map = try Map(type: .bloomFilter, keySize: 0, valueSize: 4, maxEntries: 64, mapExtra: 3)
            defer { map.close() }
            let filter = try TypedMap<Void, UInt32>(map)
            for value in UInt32(0)..<20 { try filter.push(value * 7) }
            for value in UInt32(0)..<20 { #expect(try filter.mayContain(value * 7)) }
            var absent = 0
            for value in UInt32(1000)..<1100 where try !filter.mayContain(value) { absent += 1 }
            #expect(absent > 50)
        }
    }

    @Test func mapsFromSpecsWithBTFHashOfMapsAndSpinLocks() throws {
        try K.run {
            let object = try K.object("map_kinds")
            let btf = try LoadedBTF(object: object)
            defer { btf.close() }
            let maps = try K.createMaps(object, btf: btf)
            defer { for map in maps { map.close() } }
            let byName = Dictionary(uniqueKeysWithValues: zip(object.maps.map(\.name), maps))
            let outer = try #require(byName["outer"])
            #expect(outer.type == .hashOfMaps)
            // As libbpf: maps of maps go without BTF.
            #expect(try SystemCall.mapInfo(fd: outer.fileDescriptor.rawValue).btfID == 0)

            // Hash of maps: written with an inner map's fd, read back as its id.
            let inner = try Map(type: .array, keySize: 4, valueSize: 4, maxEntries: 4, name: "inner")
            defer { inner.close() }
            let slots = try TypedMap<UInt32, UInt32>(outer)
            try slots.update(1, UInt32(bitPattern: inner.fileDescriptor.rawValue))
            #expect(try slots.lookup(1) == inner.id)
            let mismatched = try Map(type: .array, keySize: 4, valueSize: 8, maxEntries: 4)
            defer { mismatched.close() }
            let refused = #expect(throws: BPFError.self) { try slots.update(2, UInt32(bitPattern: mismatched.fileDescriptor.rawValue)) }
            #expect(refused?.errno == EINVAL)
            #expect(try slots.delete(1))

            // BPF_F_LOCK takes the value's spin lock; it needs the BTF that says where it is.
            let locked = try #require(byName["locked"])
            #expect(try SystemCall.mapInfo(fd: locked.fileDescriptor.rawValue).btfID == btf.id)
            #expect(locked.valueSize == 8)
            try locked.update(key: K.bytes(UInt32(1)), value: K.bytes(UInt64(5) << 32), flags: .lock)
            let value = try #require(try locked.lookup(key: K.bytes(UInt32(1)), flags: .lock))
            #expect(K.value(value, as: UInt64.self) >> 32 == 5)

            let routes = try #require(byName["routes"])
            #expect(routes.type == .longestPrefixMatchTrie && routes.flags.contains(.noPreallocation))
        }
    }

    @Test func frozenMapsRefuseWritesFromUserSpace() throws {
        try K.run {
            let map = try Map(type: .array, keySize: 4, valueSize: 4, maxEntries: 2, name: "ops_frozen")
            defer { map.close() }
            try map.update(key: K.bytes(UInt32(0)), value: K.bytes(UInt32(9)))
            try map.freeze()
            let write = #expect(throws: BPFError.self) { try map.update(key: K.bytes(UInt32(0)), value: K.bytes(UInt32(1))) }
            #expect(write?.errno == EPERM)
            #expect(write?.description.contains("frozen") == true)
            #expect(try map.lookup(key: K.bytes(UInt32(0))) == K.bytes(UInt32(9)))
        }
    }

    @Test func hashDumpMatchesBpftool() throws {
        try K.run {
            let map = try Map(type: .hash, keySize: 4, valueSize: 8, maxEntries: 32, name: "ops_dump")
            defer { map.close() }
            let typed = try TypedMap<UInt32, UInt64>(map)
            for key in UInt32(0)..<20 { try typed.update(key * 3, UInt64(key) * 0x0101_0101) }
            guard K.bpftool() != nil, let dump = try K.bpftoolJSON(["map", "dump", "id", String(map.id)]) as? [[String: Any]] else { return }
            var theirs: [[UInt8]: [UInt8]] = [:]
            for entry in dump {
                theirs[Self.parseHex(entry["key"] as? [String] ?? [])] = Self.parseHex(entry["value"] as? [String] ?? [])
            }
            var ours: [[UInt8]: [UInt8]] = [:]
            for (key, value) in try map.entries() { ours[key] = value }
            #expect(ours == theirs)
            #expect(ours.count == 20)
        }
    }

    /// bpftool's ["0x01", "0x02"] byte lists.
    static func parseHex(_ list: [String]) -> [UInt8] {
        list.compactMap { UInt8($0.hasPrefix("0x") ? String($0.dropFirst(2)) : $0, radix: 16) }
    }
}
#endif
