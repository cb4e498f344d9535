import BPFObject

/// `BPF_MAP_TYPE_ARRAY` and `BPF_MAP_TYPE_PERCPU_ARRAY`: `maxEntries` values indexed by a
/// 4-byte key, all present from the start (zeroed) and never deleted. Values sit one after
/// another, each rounded up to 8 bytes; a per-CPU array keeps its CPUs' values of one index
/// together. Lookups take no lock: the index picks the address.
public final class ArrayMap: UserspaceMapBase, UserspaceMap, @unchecked Sendable {
    let memory: MapMemory
    /// Bytes from one index's values to the next.
    let elementStride: Int
    let slotStride: Int
    public let storage: [MemoryRegion]

    init(spec: MapSpec, cpuCount: Int) {
        let slotStride = perCPUStride(valueSize: Int(spec.valueSize))
        let cpus = spec.type.isPerCPU ? max(cpuCount, 1) : 1
        self.slotStride = slotStride
        elementStride = slotStride * cpus
        memory = MapMemory(count: elementStride * Int(spec.maxEntries))
        storage = [memory.region("\(spec.name) values", isWritable: spec.flags & MapCreationFlag.readOnlyProgram == 0)]
        super.init(spec, cpuCount: cpus)
    }

    static func bytesNeeded(_ spec: MapSpec, cpuCount: Int) -> Int {
        perCPUStride(valueSize: Int(spec.valueSize)) * (spec.type.isPerCPU ? cpuCount : 1) * Int(spec.maxEntries)
    }

    @inline(__always)
    func value(at index: Int, cpu: Int) -> UnsafeMutableRawPointer {
        memory.base + index * elementStride + cpu * slotStride
    }

    // MARK: Programs

    @inline(__always)
    public func programLookup(key: UnsafeRawPointer, cpu: Int) -> UnsafeMutableRawPointer? {
        let index = Int(key.loadUnaligned(as: UInt32.self))
        guard index < maxEntries else { return nil }
        return value(at: index, cpu: cpuIndex(cpu))
    }

    public func programUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64, cpu: Int) -> Int64 {
        let index = Int(key.loadUnaligned(as: UInt32.self))
        let status = arrayUpdateCheck(index: index, flags: flags, maxEntries: maxEntries, hasLock: spinLockOffset >= 0)
        if status != 0 { return -Int64(status) }
        // A program writes its own CPU's value only.
        storeMapValue(into: self.value(at: index, cpu: cpuIndex(cpu)), from: value, count: valueSize,
                      lockOffset: spinLockOffset, locked: flags & MapUpdateFlags.lock.rawValue != 0)
        return 0
    }

    public func programDelete(key: UnsafeRawPointer) -> Int64 { -Int64(LinuxErrno.invalid) }

    // MARK: Host

    override func hostLookup(key: UnsafeRawPointer, into value: UnsafeMutableRawPointer) -> Int32 {
        let index = Int(key.loadUnaligned(as: UInt32.self))
        guard index < maxEntries else { return LinuxErrno.noEntry }
        copyOut(index, into: value)
        return 0
    }

    override func hostUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64) -> Int32 {
        let index = Int(key.loadUnaligned(as: UInt32.self))
        let status = arrayUpdateCheck(index: index, flags: flags, maxEntries: maxEntries, hasLock: spinLockOffset >= 0)
        if status != 0 { return status }
        if type.isPerCPU {
            // bpf(2) copies each CPU's whole 8-byte-rounded slot, padding included.
            self.value(at: index, cpu: 0).copyMemory(from: value, byteCount: elementStride)
        } else {
            storeMapValue(into: self.value(at: index, cpu: 0), from: value, count: valueSize, lockOffset: spinLockOffset,
                          locked: flags & MapUpdateFlags.lock.rawValue != 0)
        }
        return 0
    }

    override func hostDelete(key: UnsafeRawPointer) -> Int32 { LinuxErrno.invalid }

    override func hostNextKey(after key: UnsafeRawPointer?, into next: UnsafeMutableRawPointer) -> Int32 {
        arrayNextKey(after: key, into: next, maxEntries: maxEntries)
    }

    func copyOut(_ index: Int, into value: UnsafeMutableRawPointer) {
        value.copyMemory(from: self.value(at: index, cpu: 0), byteCount: type.isPerCPU ? elementStride : valueSize)
    }
}

/// The update checks every array kind makes, in the kernel's order: flags beyond BPF_EXIST
/// (BPF_F_LOCK aside), an index past the end (E2BIG), BPF_NOEXIST (every index exists), then
/// BPF_F_LOCK without a spin lock in the value.
@inline(__always)
func arrayUpdateCheck(index: Int, flags: UInt64, maxEntries: Int, hasLock: Bool = false) -> Int32 {
    if flags & ~MapUpdateFlags.lock.rawValue > MapUpdateFlags.exist.rawValue { return LinuxErrno.invalid }
    if index >= maxEntries { return LinuxErrno.tooBig }
    if flags & MapUpdateFlags.noExist.rawValue != 0 { return LinuxErrno.exists }
    if flags & MapUpdateFlags.lock.rawValue != 0 && !hasLock { return LinuxErrno.invalid }
    return 0
}

/// The key after `key` in an array: index order; no key or one past the end starts again at 0.
func arrayNextKey(after key: UnsafeRawPointer?, into next: UnsafeMutableRawPointer, maxEntries: Int) -> Int32 {
    var index = 0
    if let key {
        let current = Int(key.loadUnaligned(as: UInt32.self))
        if current < maxEntries {
            if current == maxEntries - 1 { return LinuxErrno.noEntry }
            index = current + 1
        }
    }
    next.storeBytes(of: UInt32(index), as: UInt32.self)
    return 0
}
