import BPFObject

/// The maps of a loaded object as programs see them. A map reference (`lddw rX, map`)
/// becomes the address of the map's slot in `handles`: unique, stable, and outside every
/// region a program may access, so a program can pass it to helpers but never read through it.
///
/// The maps also sit in memory of their own, so that helpers call them in place, with no
/// reference counting per call.
final class MapTable: @unchecked Sendable {
    let maps: [any UserspaceMap]
    let slots: UnsafeMutablePointer<any UserspaceMap>
    private let handles: UnsafeMutableRawPointer

    init(_ maps: [any UserspaceMap]) {
        self.maps = maps
        slots = .allocate(capacity: max(1, maps.count))
        slots.initialize(from: maps, count: maps.count)
        handles = .allocate(byteCount: max(8, maps.count * 8), alignment: 8)
        handles.initializeMemory(as: UInt8.self, repeating: 0, count: max(8, maps.count * 8))
    }

    deinit {
        slots.deinitialize(count: maps.count)
        slots.deallocate()
        handles.deallocate()
    }

    /// The value a program holds for map `index`.
    func handle(of index: Int) -> UInt64 { UInt64(UInt(bitPattern: handles)) + UInt64(index * 8) }

    /// The index of the map a handle names, or nil for any other value.
    @inline(__always)
    func index(of handle: UInt64) -> Int? {
        let delta = handle &- UInt64(UInt(bitPattern: handles))
        guard delta & 7 == 0, delta / 8 < UInt64(maps.count) else { return nil }
        return Int(delta / 8)
    }

    /// Every map's storage: what checked runs let programs access through map values.
    var storage: [MemoryRegion] { maps.flatMap(\.storage) }
}

/// What the ring buffer helpers need of a ring buffer map, besides `UserspaceMap`: the
/// kernel's reserve-then-commit protocol. Samples lie in the map's `storage`.
public protocol ProgramRingBuffer: UserspaceMap {
    /// bpf_ringbuf_reserve: room for `size` bytes, or nil when the ring has no room.
    func programReserve(size: Int) -> UnsafeMutableRawPointer?
    /// bpf_ringbuf_submit (or discard): false when `sample` is not an open reservation.
    func programCommit(_ sample: UnsafeMutableRawPointer, discard: Bool, flags: UInt64) -> Bool
    /// bpf_ringbuf_query: BPF_RB_AVAIL_DATA (0), BPF_RB_RING_SIZE (1), BPF_RB_CONS_POS (2), BPF_RB_PROD_POS (3).
    func programQuery(_ field: UInt64) -> UInt64
}

extension KernelHelpers {
    static func mapHelpers(_ table: MapTable, processor: Int) -> [Helper] {
        [
            Helper(id: 1, name: "map_lookup_elem") { call throws(VMError) in
                let map = table.slots + (try table.argumentIndex(call))
                let key = try call.memory(at: call.r2, count: map.pointee.keySize)
                return map.pointee.programLookup(key: UnsafeRawPointer(key.baseAddress.unsafelyUnwrapped), cpu: processor)
                    .map { UInt64(UInt(bitPattern: $0)) } ?? 0
            },
            Helper(id: 2, name: "map_update_elem") { call throws(VMError) in
                let map = table.slots + (try table.argumentIndex(call))
                let key = try call.memory(at: call.r2, count: map.pointee.keySize)
                let value = try call.memory(at: call.r3, count: map.pointee.valueSize)
                return UInt64(bitPattern: map.pointee.programUpdate(key: UnsafeRawPointer(key.baseAddress.unsafelyUnwrapped),
                                                                    value: UnsafeRawPointer(value.baseAddress.unsafelyUnwrapped),
                                                                    flags: call.r4, cpu: processor))
            },
            Helper(id: 3, name: "map_delete_elem") { call throws(VMError) in
                let map = table.slots + (try table.argumentIndex(call))
                let key = try call.memory(at: call.r2, count: map.pointee.keySize)
                return UInt64(bitPattern: map.pointee.programDelete(key: UnsafeRawPointer(key.baseAddress.unsafelyUnwrapped)))
            },
            Helper(id: 130, name: "ringbuf_output") { call throws(VMError) in
                let ring = try table.argumentRingBuffer(call)
                guard call.r4 & ~3 == 0 else { return Errno.invalid }     // BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP
                let data = try call.memory(at: call.r2, count: try size(call.r3, call))
                guard let sample = ring.programReserve(size: data.count) else { return Errno.tryAgain }
                if let source = data.baseAddress { sample.copyMemory(from: source, byteCount: data.count) }
                _ = ring.programCommit(sample, discard: false, flags: call.r4)
                return 0
            },
            Helper(id: 131, name: "ringbuf_reserve") { call throws(VMError) in
                let ring = try table.argumentRingBuffer(call)
                guard call.r3 == 0 else { return 0 }
                return ring.programReserve(size: try size(call.r2, call)).map { UInt64(UInt(bitPattern: $0)) } ?? 0
            },
            Helper(id: 132, name: "ringbuf_submit") { call throws(VMError) in
                try commit(call, table: table, discard: false)
            },
            Helper(id: 133, name: "ringbuf_discard") { call throws(VMError) in
                try commit(call, table: table, discard: true)
            },
            Helper(id: 134, name: "ringbuf_query") { call throws(VMError) in
                try table.argumentRingBuffer(call).programQuery(call.r2)
            },
        ]
    }

    /// A size argument, which must fit the 32 bits the kernel's prototypes give it.
    static func size(_ value: UInt64, _ call: HelperCall) throws(VMError) -> Int {
        guard value <= UInt64(UInt32.max) else { throw call.failure("the size \(value) does not fit in 32 bits") }
        return Int(value)
    }

    /// Submit and discard find the ring buffer through the sample, as the kernel does.
    private static func commit(_ call: HelperCall, table: MapTable, discard: Bool) throws(VMError) -> UInt64 {
        guard let sample = UnsafeMutableRawPointer(bitPattern: UInt(call.r1)) else {
            throw call.failure("argument 1 (r1) is NULL, not a ring buffer reservation")
        }
        for case let ring as any ProgramRingBuffer in table.maps where ring.programCommit(sample, discard: discard, flags: call.r2) {
            return 0
        }
        throw call.failure("argument 1 (r1) \(hex(call.r1)) is not an open ring buffer reservation")
    }
}

extension MapTable {
    /// The index of the map in r1, or an error naming the value.
    func argumentIndex(_ call: HelperCall) throws(VMError) -> Int {
        guard let index = index(of: call.r1) else { throw call.failure("argument 1 (r1) \(hex(call.r1)) is not a map") }
        return index
    }

    func argumentRingBuffer(_ call: HelperCall) throws(VMError) -> any ProgramRingBuffer {
        let map = maps[try argumentIndex(call)]
        guard let ring = map as? any ProgramRingBuffer else {
            throw call.failure("map \(map.name) is a \(map.type) map, not a ring buffer")
        }
        return ring
    }
}
