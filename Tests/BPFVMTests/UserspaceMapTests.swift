import BPFInstructions
import BPFObject
@testable import BPFVM
import Testing

/// The userspace maps' own behaviour: errors for every kind of bad call, what programs see
/// (per-CPU slots, stable value addresses inside `storage`), and the kinds the kernel cannot
/// be compared with step by step (ring buffer, program array, map-in-maps, LRU eviction).
@Suite struct UserspaceMapTests {
    static func spec(_ type: MapType, key: UInt32, value: UInt32, entries: UInt32, flags: UInt32 = 0, extra: UInt64 = 0,
                     inner: MapSpec? = nil, name: String = "test") -> MapSpec {
        MapSpec(name: name, sectionName: ".maps", origin: .btf, type: type, keySize: key, valueSize: value,
                maxEntries: entries, flags: flags, mapExtra: extra, innerMap: inner)
    }

    static func make<T>(_ spec: MapSpec, cpus: Int = 1, as type: T.Type = T.self) throws -> T {
        let map = try makeUserspaceMap(spec: spec, cpuCount: cpus)
        return try #require(map as? T)
    }

    static func bytes<T: BitwiseCopyable>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    // MARK: Errors

    @Test func badSizesAndFlagsAreErrorsThatSayWhat() throws {
        let map: HashMap = try Self.make(Self.spec(.hash, key: 4, value: 8, entries: 4, name: "flows"))
        let shortKey = #expect(throws: MapError.self) { try map.lookup(key: [1, 2, 3]) }
        #expect(shortKey?.errno == LinuxErrno.invalid)
        #expect(shortKey?.message == "lookup on hash map 'flows': the key is 3 bytes; this map's keys are 4 bytes")
        let shortValue = #expect(throws: MapError.self) { try map.update(key: Self.bytes(UInt32(1)), value: [1]) }
        #expect(shortValue?.message == "update on hash map 'flows': the value is 1 bytes; this map needs 8")
        let lock = #expect(throws: MapError.self) { try map.update(key: Self.bytes(UInt32(1)), value: Self.bytes(UInt64(1)), flags: .lock) }
        #expect(lock?.errno == LinuxErrno.invalid)
        let both = #expect(throws: MapError.self) {
            try map.update(key: Self.bytes(UInt32(1)), value: Self.bytes(UInt64(1)), flags: [.exist, .noExist])
        }
        #expect(both?.errno == LinuxErrno.invalid)
        let missing = #expect(throws: MapError.self) { try map.update(key: Self.bytes(UInt32(1)), value: Self.bytes(UInt64(1)), flags: .exist) }
        #expect(missing?.errno == LinuxErrno.noEntry)
        #expect(missing?.message == "update on hash map 'flows': no such element")
        for index in UInt32(0)..<4 { try map.update(key: Self.bytes(index), value: Self.bytes(UInt64(index))) }
        let full = #expect(throws: MapError.self) { try map.update(key: Self.bytes(UInt32(9)), value: Self.bytes(UInt64(9))) }
        #expect(full?.errno == LinuxErrno.tooBig)
        // A full map still replaces.
        try map.update(key: Self.bytes(UInt32(2)), value: Self.bytes(UInt64(22)))
        #expect(try map.lookup(key: Self.bytes(UInt32(2))) == Self.bytes(UInt64(22)))

        let perCPU: HashMap = try Self.make(Self.spec(.perCPUHash, key: 4, value: 12, entries: 4, name: "counts"), cpus: 3)
        let perCPUValue = #expect(throws: MapError.self) { try perCPU.update(key: Self.bytes(UInt32(1)), value: [UInt8](repeating: 0, count: 12)) }
        #expect(perCPUValue?.message == "update on percpu_hash map 'counts': the value is 12 bytes; this map needs 48 (3 CPUs × 16 bytes)")
    }

    @Test func accessFlagsRefuseTheHostLikeBPF2() throws {
        let readOnly: ArrayMap = try Self.make(Self.spec(.array, key: 4, value: 4, entries: 2, flags: MapCreationFlag.readOnly))
        #expect(try readOnly.lookup(key: Self.bytes(UInt32(0))) == [0, 0, 0, 0])
        let write = #expect(throws: MapError.self) { try readOnly.update(key: Self.bytes(UInt32(0)), value: [1, 2, 3, 4]) }
        #expect(write?.errno == LinuxErrno.permission)
        let writeOnly: ArrayMap = try Self.make(Self.spec(.array, key: 4, value: 4, entries: 2, flags: MapCreationFlag.writeOnly))
        try writeOnly.update(key: Self.bytes(UInt32(0)), value: [1, 2, 3, 4])
        let read = #expect(throws: MapError.self) { try writeOnly.lookup(key: Self.bytes(UInt32(0))) }
        #expect(read?.errno == LinuxErrno.permission)
        let walk = #expect(throws: MapError.self) { try writeOnly.nextKey(after: nil) }
        #expect(walk?.errno == LinuxErrno.permission)
    }

    @Test func operationsAMapTypeDoesNotHaveFailAsInTheKernel() throws {
        let array: ArrayMap = try Self.make(Self.spec(.array, key: 4, value: 8, entries: 4))
        #expect(throws: MapError(errno: LinuxErrno.invalid, message: "delete on array map 'test': invalid argument (flags, key or an operation this map type does not have)")) {
            try array.delete(key: Self.bytes(UInt32(0)))
        }
        #expect(array.programDelete(key: Self.bytes(UInt32(0))) == -Int64(LinuxErrno.invalid))
        let arrayPop = #expect(throws: MapError.self) { try array.lookupAndDelete(key: Self.bytes(UInt32(0))) }
        #expect(arrayPop?.errno == LinuxErrno.notSupported)

        let queue: QueueStackMap = try Self.make(Self.spec(.queue, key: 0, value: 4, entries: 2))
        #expect((#expect(throws: MapError.self) { try queue.delete(key: []) })?.errno == LinuxErrno.invalid)
        #expect((#expect(throws: MapError.self) { try queue.nextKey(after: nil) })?.errno == LinuxErrno.invalid)
        #expect(queue.programLookup(key: emptyBytes, cpu: 0) == nil)

        let bloom: BloomFilterMap = try Self.make(Self.spec(.bloomFilter, key: 0, value: 4, entries: 8))
        var value: UInt32 = 7
        #expect(bloom.programPop(into: &value) == -Int64(LinuxErrno.operationNotSupported))
        #expect((#expect(throws: MapError.self) { try bloom.delete(key: []) })?.errno == LinuxErrno.operationNotSupported)
        #expect((#expect(throws: MapError.self) { try bloom.push([1, 2, 3, 4], flags: .exist) })?.errno == LinuxErrno.invalid)

        let ring: RingBufferMap = try Self.make(Self.spec(.ringBuffer, key: 0, value: 0, entries: 4096))
        #expect((#expect(throws: MapError.self) { try ring.lookup(key: []) })?.errno == LinuxErrno.notSupported)
        #expect(ring.programUpdate(key: emptyBytes, value: emptyBytes, flags: 0, cpu: 0) == -Int64(LinuxErrno.notSupported))

        let unsupported = #expect(throws: MapError.self) {
            _ = try makeUserspaceMap(spec: Self.spec(.perfEventArray, key: 4, value: 4, entries: 2, name: "events"))
        }
        #expect(unsupported?.errno == LinuxErrno.operationNotSupported)
        #expect(unsupported?.message == "creating perf_event_array map 'events': perf_event_array maps need the kernel; BPFVM has no userspace version of them")
        let tooLarge = #expect(throws: MapError.self) {
            _ = try makeUserspaceMap(spec: Self.spec(.array, key: 4, value: 1 << 20, entries: 1 << 12))
        }
        #expect(tooLarge?.errno == LinuxErrno.noMemory)
    }

    // MARK: What programs see

    @Test func programValuesStayAtTheirAddressesInsideStorage() throws {
        let map: HashMap = try Self.make(Self.spec(.hash, key: 8, value: 16, entries: 64))
        var addresses: [UInt64: UnsafeMutableRawPointer] = [:]
        for key in UInt64(0)..<64 {
            var value = (key, key &* 3)
            #expect(withUnsafePointer(to: key) { k in withUnsafePointer(to: &value) { map.programUpdate(key: k, value: $0, flags: 0, cpu: 0) } } == 0)
            let address = try #require(withUnsafePointer(to: key) { map.programLookup(key: $0, cpu: 0) })
            #expect(map.storage.contains { $0.contains(UInt64(UInt(bitPattern: address)), size: 16) })
            addresses[key] = address
        }
        // Replacing a value links a new element, as the kernel's hash does; the old one stays the
        // map's memory, still holding the old value.
        try map.update(key: Self.bytes(UInt64(5)), value: [UInt8](repeating: 0xAB, count: 16))
        let replaced = try #require(withUnsafePointer(to: UInt64(5)) { map.programLookup(key: $0, cpu: 0) })
        #expect(replaced != addresses[5])
        #expect(map.storage.contains { $0.contains(UInt64(UInt(bitPattern: replaced)), size: 16) })
        #expect(replaced.load(as: UInt8.self) == 0xAB)
        #expect(addresses[5]?.load(as: UInt64.self) == 5)

        let array: ArrayMap = try Self.make(Self.spec(.array, key: 4, value: 3, entries: 4))
        let first = try #require(withUnsafePointer(to: UInt32(0)) { array.programLookup(key: $0, cpu: 0) })
        let last = try #require(withUnsafePointer(to: UInt32(3)) { array.programLookup(key: $0, cpu: 0) })
        #expect(last - first == 3 * 8)
        #expect(withUnsafePointer(to: UInt32(4)) { array.programLookup(key: $0, cpu: 0) } == nil)
    }

    @Test func perCPUProgramsWriteTheirOwnSlot() throws {
        let map: HashMap = try Self.make(Self.spec(.perCPUHash, key: 4, value: 4, entries: 4), cpus: 3)
        var value: UInt32 = 0x11
        let key: UInt32 = 9
        #expect(withUnsafePointer(to: key) { k in map.programUpdate(key: k, value: &value, flags: 0, cpu: 1) } == 0)
        // A new element: this CPU's value, zeros for the others, each in an 8-byte slot.
        #expect(try map.lookup(key: Self.bytes(key)) == [0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        value = 0x22
        #expect(withUnsafePointer(to: key) { k in map.programUpdate(key: k, value: &value, flags: 2, cpu: 2) } == 0)
        #expect(try map.lookup(key: Self.bytes(key)) == [0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0, 0, 0, 0, 0, 0, 0, 0x22, 0, 0, 0, 0, 0, 0, 0])
        let slot = try #require(withUnsafePointer(to: key) { map.programLookup(key: $0, cpu: 1) })
        #expect(slot.load(as: UInt32.self) == 0x11)

        let array: ArrayMap = try Self.make(Self.spec(.perCPUArray, key: 4, value: 8, entries: 2), cpus: 2)
        var one: UInt64 = 1
        #expect(withUnsafePointer(to: UInt32(1)) { k in array.programUpdate(key: k, value: &one, flags: 0, cpu: 1) } == 0)
        #expect(try array.lookup(key: Self.bytes(UInt32(1))) == Self.bytes(UInt64(0)) + Self.bytes(UInt64(1)))
    }

    @Test func globalDataStartsWithItsInitialBytes() throws {
        var spec = Self.spec(.array, key: 4, value: 6, entries: 1, flags: MapCreationFlag.readOnlyProgram, name: ".rodata")
        spec.initialValue = [1, 2, 3, 4, 5, 6]
        let map: ArrayMap = try Self.make(spec)
        #expect(try map.lookup(key: Self.bytes(UInt32(0))) == [1, 2, 3, 4, 5, 6])
        #expect(map.storage.allSatisfy { !$0.isWritable })
    }

    // MARK: LRU eviction

    @Test func fullLRUHashEvictsAndKeepsWhatProgramsUse() throws {
        let map: HashMap = try Self.make(Self.spec(.lruHash, key: 4, value: 4, entries: 32))
        let hot = UInt32(1_000_000)
        try map.update(key: Self.bytes(hot), value: Self.bytes(hot))
        for key in UInt32(0)..<500 {
            try map.update(key: Self.bytes(key), value: Self.bytes(key), flags: .noExist)
            #expect(map.count <= 32)
            #expect(try map.lookup(key: Self.bytes(key)) == Self.bytes(key))
            // Programs look the hot key up all the time: it is never the one evicted.
            #expect(withUnsafePointer(to: hot) { map.programLookup(key: $0, cpu: 0) } != nil)
        }
        #expect(map.count == 32)
        #expect(try map.keys().count == 32)
    }

    // MARK: Ring buffer

    @Test func ringBufferRecordsComeOutInOrderAcrossTheWrap() throws {
        let ring: RingBufferMap = try Self.make(Self.spec(.ringBuffer, key: 0, value: 0, entries: 4096))
        #expect(ring.query(RingBufferMap.ringSize) == 4096)
        var expected: [[UInt8]] = []
        var received: [[UInt8]] = []
        var random = SeededGenerator(seed: 42)
        for round in 0..<2000 {
            let record = (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            if round % 3 == 0 {
                let status = record.withUnsafeBytes { ring.output($0.baseAddress ?? emptyBytes, count: $0.count) }
                if status == 0 { expected.append(record) } else { #expect(status == -Int64(LinuxErrno.tryAgain)) }
            } else if let space = ring.reserve(count: record.count) {
                record.withUnsafeBytes { space.copyMemory(from: $0.baseAddress ?? emptyBytes, byteCount: $0.count) }
                if round % 7 == 0 {
                    ring.discard(space)
                } else {
                    ring.submit(space)
                    expected.append(record)
                }
            }
            if round % 5 == 0 { received += ring.records() }
        }
        received += ring.records()
        #expect(received == expected)
        #expect(expected.count > 1000)
        #expect(ring.query(RingBufferMap.availableData) == 0)
        #expect(ring.query(RingBufferMap.producerPosition) > 4096 * 10)
    }

    @Test func ringBufferIsFullUntilConsumedAndABusyRecordHoldsTheConsumer() throws {
        let ring: RingBufferMap = try Self.make(Self.spec(.ringBuffer, key: 0, value: 0, entries: 4096))
        #expect(ring.reserve(count: 4096) == nil)
        #expect(ring.reserve(count: 8, flags: 1) == nil)
        var data = [UInt8](repeating: 1, count: 8)
        #expect(ring.output(&data, count: 8, flags: 4) == -Int64(LinuxErrno.invalid))
        let busy = try #require(ring.reserve(count: 100))
        #expect(ring.storage.contains { $0.contains(UInt64(UInt(bitPattern: busy)), size: 100) })
        #expect(ring.output(&data, count: 8) == 0)
        #expect(ring.records().isEmpty)   // the first record is still being filled
        #expect(ring.query(RingBufferMap.availableData) == 112 + 16)
        ring.submit(busy)
        #expect(ring.records().map(\.count) == [100, 8])
        // 4080 bytes of records fit in 4096 (the producer stays a byte behind a lap).
        var filled = 0
        while ring.reserve(count: 8).map({ ring.submit($0) }) != nil { filled += 1 }
        #expect(filled == 255)
        #expect(ring.output(&data, count: 8) == -Int64(LinuxErrno.tryAgain))
        #expect(ring.records().count == 255)
    }

    // MARK: Program arrays and map-in-maps

    @Test func programArraySlotsHoldProgramIds() throws {
        let programs: ProgramArrayMap = try Self.make(Self.spec(.programArray, key: 4, value: 4, entries: 4))
        try programs.update(key: Self.bytes(UInt32(2)), value: Self.bytes(UInt32(77)))
        #expect(programs.program(at: 2) == 77)
        #expect(programs.program(at: 1) == nil)
        #expect(programs.program(at: 9) == nil)
        #expect(try programs.lookup(key: Self.bytes(UInt32(2))) == Self.bytes(UInt32(77)))
        #expect(try programs.lookup(key: Self.bytes(UInt32(1))) == nil)
        #expect((#expect(throws: MapError.self) { try programs.update(key: Self.bytes(UInt32(1)), value: Self.bytes(UInt32(5)), flags: .noExist) })?.errno == LinuxErrno.invalid)
        #expect((#expect(throws: MapError.self) { try programs.update(key: Self.bytes(UInt32(4)), value: Self.bytes(UInt32(5))) })?.errno == LinuxErrno.tooBig)
        #expect((#expect(throws: MapError.self) { try programs.delete(key: Self.bytes(UInt32(4))) })?.errno == LinuxErrno.invalid)
        #expect(try programs.delete(key: Self.bytes(UInt32(2))))
        #expect(try !programs.delete(key: Self.bytes(UInt32(2))))
        #expect(try programs.keys() == (0..<4).map { Self.bytes(UInt32($0)) })
    }

    @Test(arguments: [MapType.arrayOfMaps, .hashOfMaps])
    func mapInMapSlotsHoldMatchingMaps(_ type: MapType) throws {
        let template = Self.spec(.hash, key: 4, value: 8, entries: 16, name: "inner")
        let inner = try makeUserspaceMap(spec: template)
        let other = try makeUserspaceMap(spec: template)
        let wrong = try makeUserspaceMap(spec: Self.spec(.hash, key: 4, value: 8, entries: 17, name: "wrong"))
        let known: [UInt32: any UserspaceMap] = [5: inner, 6: other, 7: wrong]
        let outer: MapOfMaps = try Self.make(Self.spec(type, key: 4, value: 4, entries: 4, inner: template))
        let map = try makeUserspaceMap(spec: Self.spec(type, key: 4, value: 4, entries: 4, inner: template),
                                       resolveInnerMap: { known[$0] })
        let resolving = try #require(map as? MapOfMaps)

        try resolving.update(key: Self.bytes(UInt32(1)), value: Self.bytes(UInt32(5)))
        #expect(try resolving.lookup(key: Self.bytes(UInt32(1))) == Self.bytes(UInt32(5)))
        #expect(try resolving.innerMap(key: Self.bytes(UInt32(1))) === inner)
        let mismatch = #expect(throws: MapError.self) { try resolving.update(key: Self.bytes(UInt32(2)), value: Self.bytes(UInt32(7))) }
        #expect(mismatch?.errno == LinuxErrno.invalid)
        let unknown = #expect(throws: MapError.self) { try resolving.update(key: Self.bytes(UInt32(2)), value: Self.bytes(UInt32(8))) }
        #expect(unknown?.errno == LinuxErrno.badDescriptor)

        // A program's lookup result leads the runtime back to the inner map.
        let reference = try #require(withUnsafePointer(to: UInt32(1)) { resolving.programLookup(key: $0, cpu: 0) })
        #expect(resolving.innerMap(at: reference) === inner)
        #expect(resolving.storage.contains { $0.contains(UInt64(UInt(bitPattern: reference)), size: 4) })
        #expect(withUnsafePointer(to: UInt32(3)) { resolving.programLookup(key: $0, cpu: 0) } == nil)
        // A replace links a new element (the kernel's hash of maps does too): a new lookup
        // leads to the new map, and once the key is gone its slot leads nowhere.
        try resolving.update(key: Self.bytes(UInt32(1)), value: Self.bytes(UInt32(6)))
        let replaced = try #require(withUnsafePointer(to: UInt32(1)) { resolving.programLookup(key: $0, cpu: 0) })
        #expect(resolving.innerMap(at: replaced) === other)
        #expect(try resolving.delete(key: Self.bytes(UInt32(1))))
        #expect(resolving.innerMap(at: replaced) == nil)
        #expect(try !resolving.delete(key: Self.bytes(UInt32(1))))

        try outer.setInnerMap(inner, id: 40, key: Self.bytes(UInt32(0)))
        #expect(try outer.innerMap(key: Self.bytes(UInt32(0))) === inner)
        let sameIDOtherMap = #expect(throws: MapError.self) { try outer.setInnerMap(other, id: 40, key: Self.bytes(UInt32(1))) }
        #expect(sameIDOtherMap?.errno == LinuxErrno.invalid)
        let zero = #expect(throws: MapError.self) { try outer.setInnerMap(other, id: 0, key: Self.bytes(UInt32(1))) }
        #expect(zero?.errno == LinuxErrno.badDescriptor)

        let noTemplate = #expect(throws: MapError.self) { _ = try makeUserspaceMap(spec: Self.spec(type, key: 4, value: 4, entries: 4)) }
        #expect(noTemplate?.errno == LinuxErrno.invalid)
    }

    // MARK: The kernel's jhash

    @Test func jenkinsHashGivesLookup3sPublishedValues() {
        // lookup3.c's self-test: hashlittle("", 0, 0) and hashlittle("Four score and seven years ago", 30, 0 / 1).
        #expect(JenkinsHash.hash(bytes: emptyBytes, count: 0, seed: 0) == 0xDEAD_BEEF)
        let text = Array("Four score and seven years ago".utf8)
        #expect(text.withUnsafeBytes { JenkinsHash.hash(bytes: $0.baseAddress ?? emptyBytes, count: 30, seed: 0) } == 0x1777_0551)
        #expect(text.withUnsafeBytes { JenkinsHash.hash(bytes: $0.baseAddress ?? emptyBytes, count: 30, seed: 1) } == 0xCD62_8161)
    }
}
