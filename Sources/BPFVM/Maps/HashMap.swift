import BPFObject

/// `BPF_MAP_TYPE_HASH`, `PERCPU_HASH`, `LRU_HASH` and `LRU_PERCPU_HASH`: keys of `keySize`
/// bytes in a `HashTable` of `maxEntries` preallocated elements. A full hash refuses a new key
/// with E2BIG; a full LRU hash evicts the element least recently looked up (approximately, as
/// the kernel's LRU does) and never exceeds `maxEntries`. Per-CPU values: a program reads and
/// writes its CPU's slot; the host sees all of them, each rounded up to 8 bytes.
public final class HashMap: UserspaceMapBase, UserspaceMap, @unchecked Sendable {
    let table: HashTable
    public let storage: [MemoryRegion]

    init(spec: MapSpec, maxEntries: Int, cpuCount: Int) {
        let perCPU = spec.type.isPerCPU
        table = HashTable(keySize: Int(spec.keySize), valueSize: Int(spec.valueSize), perCPU: perCPU,
                          cpuCount: cpuCount, capacity: maxEntries,
                          isLRU: spec.type == .lruHash || spec.type == .lruPerCPUHash,
                          zeroSeed: spec.flags & MapCreationFlag.zeroSeed != 0)
        storage = [table.values.region("\(spec.name) values", isWritable: spec.flags & MapCreationFlag.readOnlyProgram == 0)]
        super.init(spec, maxEntries: maxEntries, cpuCount: cpuCount)
    }

    override func holdSpinLock(at offset: Int) {
        super.holdSpinLock(at: offset)
        table.lockOffset = spinLockOffset
    }

    /// Elements in the map now.
    public var count: Int { table.count }

    // MARK: Programs

    @inline(__always)
    public func programLookup(key: UnsafeRawPointer, cpu: Int) -> UnsafeMutableRawPointer? {
        let element = table.lookup(key)
        guard element >= 0 else { return nil }
        return table.value(element) + cpuIndex(cpu) * table.slotStride
    }

    @inline(__always)
    public func programUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64, cpu: Int) -> Int64 {
        -Int64(table.update(key, value: value, flags: flags, cpu: table.isPerCPU ? cpuIndex(cpu) : 0))
    }

    @inline(__always)
    public func programDelete(key: UnsafeRawPointer) -> Int64 { -Int64(table.delete(key)) }

    // MARK: Host

    override func hostLookup(key: UnsafeRawPointer, into value: UnsafeMutableRawPointer) -> Int32 {
        table.copyValue(of: key, into: value, delete: false)
    }

    override func hostUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64) -> Int32 {
        table.update(key, value: value, flags: flags, cpu: -1)
    }

    override func hostDelete(key: UnsafeRawPointer) -> Int32 { table.delete(key) }

    override func hostNextKey(after key: UnsafeRawPointer?, into next: UnsafeMutableRawPointer) -> Int32 {
        table.nextKey(after: key, into: next)
    }

    override func hostLookupAndDelete(key: UnsafeRawPointer, into value: UnsafeMutableRawPointer) -> Int32 {
        table.copyValue(of: key, into: value, delete: true)
    }
}
