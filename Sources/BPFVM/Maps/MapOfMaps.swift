import BPFObject
import Synchronization

/// `BPF_MAP_TYPE_ARRAY_OF_MAPS` and `BPF_MAP_TYPE_HASH_OF_MAPS`: slots (by index or by key)
/// that hold other maps, all matching the inner map template (type, key and value size, flags,
/// and max entries unless the template has `BPF_F_INNER_MAP`), as the kernel checks them.
///
/// In the kernel a slot is set from a map fd and read back as the inner map's id. Here a slot
/// holds a map together with a nonzero 32-bit id: `setInnerMap(_:id:key:)` from Swift, or host
/// `update` with a 4-byte id that the `resolveInnerMap` function given at creation turns into a
/// map (EBADF when it knows none); `lookup` gives the id back.
///
/// A program's lookup returns the slot's address, which the program then passes to map helpers
/// as the inner map; the runtime turns it back into the map with `innerMap(at:)`. Programs may
/// only look up (the verifier refuses the rest).
public final class MapOfMaps: UserspaceMapBase, UserspaceMap, @unchecked Sendable {
    public let template: MapSpec
    let resolve: @Sendable (UInt32) -> (any UserspaceMap)?
    /// Arrays of maps: the slots; each holds its map's id.
    let slots: SlotArray?
    /// Hashes of maps: key → id, in a hash with 4-byte values.
    let table: HashTable?
    /// id → the map and how many slots hold it. Host changes to the slots happen under it too.
    let members = Mutex<[UInt32: (map: any UserspaceMap, slots: Int)]>([:])
    public let storage: [MemoryRegion]

    init(spec: MapSpec, template: MapSpec, resolve: @escaping @Sendable (UInt32) -> (any UserspaceMap)?) {
        self.template = template
        self.resolve = resolve
        if spec.type == .arrayOfMaps {
            let slots = SlotArray(count: Int(spec.maxEntries))
            self.slots = slots
            table = nil
            let start = UInt64(UInt(bitPattern: slots.address(of: 0)))
            storage = [MemoryRegion(name: "\(spec.name) slots", start: start,
                                    count: slots.count * MemoryLayout<Atomic<UInt64>>.stride, isWritable: false)]
        } else {
            let table = HashTable(keySize: Int(spec.keySize), valueSize: 4, perCPU: false, cpuCount: 1,
                                  capacity: Int(spec.maxEntries), isLRU: false, zeroSeed: false)
            self.table = table
            slots = nil
            storage = [table.values.region("\(spec.name) slots", isWritable: false)]
        }
        super.init(spec)
    }

    // MARK: Programs and the runtime

    public func programLookup(key: UnsafeRawPointer, cpu: Int) -> UnsafeMutableRawPointer? {
        if let slots {
            let index = Int(key.loadUnaligned(as: UInt32.self))
            return slots.id(at: index) != nil ? slots.address(of: index) : nil
        }
        guard let table else { return nil }
        let element = table.lookup(key)
        return element >= 0 ? table.value(element) : nil
    }

    public func programUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64, cpu: Int) -> Int64 { -Int64(LinuxErrno.invalid) }
    public func programDelete(key: UnsafeRawPointer) -> Int64 { -Int64(LinuxErrno.invalid) }

    /// The inner map a program's lookup result (`programLookup`) refers to, or nil when
    /// `address` is not one of this map's slots or the slot is empty now.
    public func innerMap(at address: UnsafeRawPointer) -> (any UserspaceMap)? {
        members.withLock { members in
            var id: UInt32?
            if let slots, let index = slots.index(at: address) {
                id = slots.id(at: index)
            } else if let table, let offset = table.values.offset(of: address), offset % table.elementStride == 0 {
                id = address.load(as: UInt32.self)
            }
            return id.flatMap { members[$0]?.map }
        }
    }

    /// The map in the slot of `key`, or nil.
    public func innerMap(key: [UInt8]) throws(MapError) -> (any UserspaceMap)? {
        guard let id = try lookup(key: key) else { return nil }
        let number = UInt32(id[0]) | UInt32(id[1]) << 8 | UInt32(id[2]) << 16 | UInt32(id[3]) << 24
        return members.withLock { $0[number]?.map }
    }

    /// Puts `map`, known by the nonzero `id`, in the slot of `key`, as bpf(2)'s update with a
    /// map fd would: EINVAL when it does not match the template (or `id` names another map).
    public func setInnerMap(_ map: any UserspaceMap, id: UInt32, key: [UInt8], flags: MapUpdateFlags = .any) throws(MapError) {
        try check(key: key, "update")
        let status = callWithInputs(key, []) { key, _ in place(map, id: id, key: key, flags: flags.rawValue) }
        try check(status, "update")
    }

    func compatible(_ map: any UserspaceMap) -> Bool {
        map.type == template.type && map.keySize == Int(template.keySize) && map.valueSize == Int(template.valueSize)
            && map.flags == template.flags
            && (template.flags & MapCreationFlag.innerMap != 0 || map.maxEntries == Int(template.maxEntries))
    }

    func place(_ map: any UserspaceMap, id: UInt32, key: UnsafeRawPointer, flags: UInt64) -> Int32 {
        if let slots {
            let status = slots.updateCheck(index: Int(key.loadUnaligned(as: UInt32.self)), flags: flags)
            if status != 0 { return status }
        }
        guard id != 0 else { return LinuxErrno.badDescriptor }
        guard compatible(map) else { return LinuxErrno.invalid }
        return members.withLock { members in
            if let member = members[id], member.map !== map { return LinuxErrno.invalid }
            var previous: UInt32?
            if let slots {
                previous = slots.exchange(at: Int(key.loadUnaligned(as: UInt32.self)), with: id)
            } else if let table {
                var old: UInt32 = 0
                let found = withUnsafeMutablePointer(to: &old) { table.copyValue(of: key, into: UnsafeMutableRawPointer($0), delete: false) } == 0
                var value = id
                let status = withUnsafePointer(to: &value) { table.update(key, value: UnsafeRawPointer($0), flags: flags, cpu: -1) }
                if status != 0 { return status }
                if found { previous = old }
            }
            members[id, default: (map, 0)].slots += 1
            if let previous { release(previous, in: &members) }
            return 0
        }
    }

    func release(_ id: UInt32, in members: inout [UInt32: (map: any UserspaceMap, slots: Int)]) {
        guard let member = members[id] else { return }
        members[id] = member.slots > 1 ? (member.map, member.slots - 1) : nil
    }

    // MARK: Host

    override func hostLookup(key: UnsafeRawPointer, into value: UnsafeMutableRawPointer) -> Int32 {
        if let slots { return slots.lookup(key: key, into: value) }
        return table?.copyValue(of: key, into: value, delete: false) ?? LinuxErrno.noEntry
    }

    override func hostUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64) -> Int32 {
        if let slots {
            let status = slots.updateCheck(index: Int(key.loadUnaligned(as: UInt32.self)), flags: flags)
            if status != 0 { return status }
        }
        let id = value.loadUnaligned(as: UInt32.self)
        guard let map = resolve(id) else { return LinuxErrno.badDescriptor }
        return place(map, id: id, key: key, flags: flags)
    }

    override func hostDelete(key: UnsafeRawPointer) -> Int32 {
        members.withLock { members in
            if let slots {
                let index = Int(key.loadUnaligned(as: UInt32.self))
                guard index < slots.count else { return LinuxErrno.invalid }
                guard let previous = slots.exchange(at: index, with: nil) else { return LinuxErrno.noEntry }
                release(previous, in: &members)
                return 0
            }
            guard let table else { return LinuxErrno.noEntry }
            var old: UInt32 = 0
            let status = withUnsafeMutablePointer(to: &old) { table.copyValue(of: key, into: UnsafeMutableRawPointer($0), delete: true) }
            if status == 0 { release(old, in: &members) }
            return status
        }
    }

    override func hostNextKey(after key: UnsafeRawPointer?, into next: UnsafeMutableRawPointer) -> Int32 {
        if slots != nil { return arrayNextKey(after: key, into: next, maxEntries: maxEntries) }
        return table?.nextKey(after: key, into: next) ?? LinuxErrno.noEntry
    }
}
