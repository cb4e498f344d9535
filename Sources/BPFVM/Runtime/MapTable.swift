import BPFObject

/// The maps of a loaded object as programs see them. A map reference (`lddw rX, map`)
/// becomes the address of the map's descriptor in `handles` (`MapLookupDescriptor`): unique,
/// stable, and outside every region a program may access, so a program can pass it to helpers
/// but never read through it; the JIT's generated code reads it to look values up.
///
/// Helpers reach the maps through `slots`: unretained references (`maps` owns them) with
/// the sizes beside them, so that a call costs no reference counting.
final class MapTable: @unchecked Sendable {
    struct Slot {
        /// The classes lookups and updates call directly, not through the protocol's
        /// existential (which costs a retain and a release per call).
        enum Kind { case array, hash, lpmTrie, other }

        unowned(unsafe) let map: any UserspaceMap
        let kind: Kind
        /// The map, unretained, for the kinds called directly.
        let object: UnsafeMutableRawPointer
        let keySize: Int
        let valueSize: Int

        init(_ map: any UserspaceMap) {
            self.map = map
            switch map {
            case is ArrayMap: kind = .array
            case is HashMap: kind = .hash
            case is LPMTrieMap: kind = .lpmTrie
            default: kind = .other
            }
            object = Unmanaged<AnyObject>.passUnretained(map).toOpaque()
            keySize = map.keySize
            valueSize = map.valueSize
        }

        /// `programLookup` of the map. Not inlined: its closures would otherwise land in the
        /// helpers' typed-throws bodies, which Swift 6.3's release mode miscompiles.
        @inline(never)
        func lookup(_ key: UnsafeRawPointer, cpu: Int) -> UnsafeMutableRawPointer? {
            switch kind {
            case .array: Unmanaged<ArrayMap>.fromOpaque(object)._withUnsafeGuaranteedRef { $0.programLookup(key: key, cpu: cpu) }
            case .hash: Unmanaged<HashMap>.fromOpaque(object)._withUnsafeGuaranteedRef { $0.programLookup(key: key, cpu: cpu) }
            case .lpmTrie: Unmanaged<LPMTrieMap>.fromOpaque(object)._withUnsafeGuaranteedRef { $0.programLookup(key: key, cpu: cpu) }
            case .other: map.programLookup(key: key, cpu: cpu)
            }
        }

        /// `programUpdate` of the map; not inlined, as `lookup`.
        @inline(never)
        func update(_ key: UnsafeRawPointer, _ value: UnsafeRawPointer, flags: UInt64, cpu: Int) -> Int64 {
            switch kind {
            case .array:
                Unmanaged<ArrayMap>.fromOpaque(object)._withUnsafeGuaranteedRef { $0.programUpdate(key: key, value: value, flags: flags, cpu: cpu) }
            case .hash:
                Unmanaged<HashMap>.fromOpaque(object)._withUnsafeGuaranteedRef { $0.programUpdate(key: key, value: value, flags: flags, cpu: cpu) }
            case .lpmTrie:
                Unmanaged<LPMTrieMap>.fromOpaque(object)._withUnsafeGuaranteedRef { $0.programUpdate(key: key, value: value, flags: flags, cpu: cpu) }
            case .other: map.programUpdate(key: key, value: value, flags: flags, cpu: cpu)
            }
        }
    }

    let maps: [any UserspaceMap]
    let slots: UnsafeMutablePointer<Slot>
    /// The ring buffers, found once: submit and discard search them per record.
    let ringBuffers: [RingBufferMap]
    private let handles: UnsafeMutableRawPointer

    /// `processor`: the CPU whose values the programs of this table see in per-CPU maps.
    init(_ maps: [any UserspaceMap], processor: Int = 0) {
        self.maps = maps
        slots = .allocate(capacity: max(1, maps.count))
        for (index, map) in maps.enumerated() {
            (slots + index).initialize(to: Slot(map))
        }
        ringBuffers = maps.compactMap { $0 as? RingBufferMap }
        let bytes = max(1, maps.count) * MapLookupDescriptor.stride
        handles = .allocate(byteCount: bytes, alignment: 64)
        handles.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        for (index, map) in maps.enumerated() {
            Self.describe(map, processor: processor, at: handles + index * MapLookupDescriptor.stride)
        }
    }

    /// Fills a map's descriptor; maps other than arrays, hashes and tries keep the helper path.
    private static func describe(_ map: any UserspaceMap, processor: Int, at descriptor: UnsafeMutableRawPointer) {
        func set(_ field: Int32, _ value: UInt64) { descriptor.storeBytes(of: value, toByteOffset: Int(field), as: UInt64.self) }
        let object = UInt64(UInt(bitPattern: Unmanaged<AnyObject>.passUnretained(map).toOpaque()))
        switch map {
        case let array as ArrayMap:
            set(MapLookupDescriptor.kind, MapLookupDescriptor.Kind.array.rawValue)
            set(MapLookupDescriptor.base, UInt64(UInt(bitPattern: array.value(at: 0, cpu: array.cpuIndex(processor)))))
            set(MapLookupDescriptor.maxEntries, UInt64(array.maxEntries))
            set(MapLookupDescriptor.elementStride, UInt64(array.elementStride))
        case is HashMap, is LPMTrieMap:
            set(MapLookupDescriptor.kind, MapLookupDescriptor.Kind.direct.rawValue)
            let function = map is HashMap ? hashLookup : lpmTrieLookup
            set(MapLookupDescriptor.function, UInt64(UInt(bitPattern: unsafeBitCast(function, to: UnsafeRawPointer.self))))
            set(MapLookupDescriptor.map, object)
            set(MapLookupDescriptor.cpu, UInt64(bitPattern: Int64(processor)))
        default:
            set(MapLookupDescriptor.kind, MapLookupDescriptor.Kind.helper.rawValue)
        }
    }

    /// Where the descriptors lie, for the JIT.
    var descriptors: MapLookupDescriptor.Table {
        MapLookupDescriptor.Table(start: UInt64(UInt(bitPattern: handles)), count: maps.count)
    }

    deinit {
        slots.deinitialize(count: maps.count)
        slots.deallocate()
        handles.deallocate()
    }

    /// The value a program holds for map `index`.
    func handle(of index: Int) -> UInt64 { UInt64(UInt(bitPattern: handles)) + UInt64(index * MapLookupDescriptor.stride) }

    /// The index of the map a handle names, or nil for any other value.
    @inline(__always)
    func index(of handle: UInt64) -> Int? {
        let delta = handle &- UInt64(UInt(bitPattern: handles))
        let stride = UInt64(MapLookupDescriptor.stride)
        guard delta % stride == 0, delta / stride < UInt64(maps.count) else { return nil }
        return Int(delta / stride)
    }

    /// Every map's storage: what checked runs let programs access through map values.
    var storage: [MemoryRegion] { maps.flatMap(\.storage) }
}

extension KernelHelpers {
    static func mapHelpers(_ table: MapTable, processor: Int) -> [Helper] {
        [
            Helper(id: 1, name: "map_lookup_elem") { call throws(VMError) in
                let slot = table.slots[try table.argumentIndex(call)]
                let key = try call.memory(at: call.r2, count: slot.keySize)
                // No Optional.map here: closures in typed-throws code trip Swift 6.3's release-mode miscompile.
                guard let value = slot.lookup(UnsafeRawPointer(key.baseAddress.unsafelyUnwrapped), cpu: processor) else {
                    return 0
                }
                return UInt64(UInt(bitPattern: value))
            },
            Helper(id: 2, name: "map_update_elem") { call throws(VMError) in
                let slot = table.slots[try table.argumentIndex(call)]
                let key = try call.memory(at: call.r2, count: slot.keySize)
                let value = try call.memory(at: call.r3, count: slot.valueSize)
                return UInt64(bitPattern: slot.update(UnsafeRawPointer(key.baseAddress.unsafelyUnwrapped),
                                                      UnsafeRawPointer(value.baseAddress.unsafelyUnwrapped), flags: call.r4, cpu: processor))
            },
            Helper(id: 3, name: "map_delete_elem") { call throws(VMError) in
                let slot = table.slots[try table.argumentIndex(call)]
                let key = try call.memory(at: call.r2, count: slot.keySize)
                return UInt64(bitPattern: slot.map.programDelete(key: UnsafeRawPointer(key.baseAddress.unsafelyUnwrapped)))
            },
            Helper(id: 87, name: "map_push_elem") { call throws(VMError) in
                let (map, slot) = try table.argumentPushPop(call)
                let value = try call.memory(at: call.r2, count: slot.valueSize)
                return UInt64(bitPattern: map.programPush(value: UnsafeRawPointer(value.baseAddress.unsafelyUnwrapped), flags: call.r3))
            },
            Helper(id: 88, name: "map_pop_elem") { call throws(VMError) in
                let (map, slot) = try table.argumentPushPop(call)
                let value = try call.memory(at: call.r2, count: slot.valueSize, writing: true)
                return UInt64(bitPattern: map.programPop(into: value.baseAddress.unsafelyUnwrapped))
            },
            Helper(id: 89, name: "map_peek_elem") { call throws(VMError) in
                let (map, slot) = try table.argumentPushPop(call)
                let value = try call.memory(at: call.r2, count: slot.valueSize, writing: true)
                return UInt64(bitPattern: map.programPeek(into: value.baseAddress.unsafelyUnwrapped))
            },
            Helper(id: 130, name: "ringbuf_output") { call throws(VMError) in
                let ring = try table.argumentRingBuffer(call)
                let data = try call.memory(at: call.r2, count: try size(call.r3, call))
                return UInt64(bitPattern: ring.output(UnsafeRawPointer(data.baseAddress.unsafelyUnwrapped), count: data.count, flags: call.r4))
            },
            Helper(id: 131, name: "ringbuf_reserve") { call throws(VMError) in
                let ring = try table.argumentRingBuffer(call)
                guard let record = ring.reserve(count: try size(call.r2, call), flags: call.r3) else { return 0 }
                return UInt64(UInt(bitPattern: record))
            },
            Helper(id: 132, name: "ringbuf_submit") { call throws(VMError) in
                try table.ringBuffer(holding: call).submit(UnsafeMutableRawPointer(bitPattern: UInt(call.r1)).unsafelyUnwrapped, flags: call.r2)
                return 0
            },
            Helper(id: 133, name: "ringbuf_discard") { call throws(VMError) in
                try table.ringBuffer(holding: call).discard(UnsafeMutableRawPointer(bitPattern: UInt(call.r1)).unsafelyUnwrapped, flags: call.r2)
                return 0
            },
            Helper(id: 134, name: "ringbuf_query") { call throws(VMError) in
                try table.argumentRingBuffer(call).query(call.r2)
            },
        ]
    }

    /// A size argument, which must fit the 32 bits the kernel's prototypes give it.
    static func size(_ value: UInt64, _ call: HelperCall) throws(VMError) -> Int {
        guard value <= UInt64(UInt32.max) else { throw call.failure("the size \(value) does not fit in 32 bits") }
        return Int(value)
    }
}

extension MapTable {
    /// The index of the map in r1, or an error naming the value.
    func argumentIndex(_ call: HelperCall) throws(VMError) -> Int {
        guard let index = index(of: call.r1) else { throw call.failure("argument 1 (r1) \(hex(call.r1)) is not a map") }
        return index
    }

    func argumentRingBuffer(_ call: HelperCall) throws(VMError) -> RingBufferMap {
        let map = maps[try argumentIndex(call)]
        guard let ring = map as? RingBufferMap else { throw call.failure("map \(map.name) is a \(map.type) map, not a ring buffer") }
        return ring
    }

    func argumentPushPop(_ call: HelperCall) throws(VMError) -> (any PushPopMap, Slot) {
        let index = try argumentIndex(call)
        guard let map = maps[index] as? any PushPopMap else {
            throw call.failure("map \(maps[index].name) is a \(maps[index].type) map, not a queue, stack or bloom filter")
        }
        return (map, slots[index])
    }

    /// Submit and discard find the ring buffer through the record, as the kernel does.
    func ringBuffer(holding call: HelperCall) throws(VMError) -> RingBufferMap {
        if call.r1 >= UInt64(RingBufferMap.headerSize), let record = UnsafeRawPointer(bitPattern: UInt(call.r1 - UInt64(RingBufferMap.headerSize))) {
            for ring in ringBuffers where ring.data.offset(of: record) != nil { return ring }
        }
        throw call.failure("argument 1 (r1) \(hex(call.r1)) is not a ring buffer record")
    }
}
