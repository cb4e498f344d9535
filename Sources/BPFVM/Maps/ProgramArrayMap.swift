import BPFObject
import Synchronization

/// `BPF_MAP_TYPE_PROG_ARRAY`: the slots `bpf_tail_call` jumps through. In the kernel a slot
/// holds a program and bpf(2) sets it from a program fd; here a slot holds a program id that the
/// runtime chose for each of its programs (4 bytes, little-endian order of the host), and the
/// runtime resolves it at the tail call. Slots are atomics: a tail call takes no lock.
/// Host `update` takes BPF_ANY only (EINVAL otherwise), E2BIG past the end; `lookup` gives the
/// id back; `delete` empties a slot (ENOENT when empty, EINVAL past the end). Programs cannot
/// look up, update or delete (the verifier refuses them): those members fail.
public final class ProgramArrayMap: UserspaceMapBase, UserspaceMap, @unchecked Sendable {
    let slots: SlotArray
    public var storage: [MemoryRegion] { [] }

    init(spec: MapSpec) {
        slots = SlotArray(count: Int(spec.maxEntries))
        super.init(spec)
    }

    /// The program id in slot `index`, or nil: what `bpf_tail_call` jumps to.
    @inline(__always)
    public func program(at index: UInt32) -> UInt32? { slots.id(at: Int(index)) }

    /// Sets or empties a slot from Swift.
    public func setProgram(_ id: UInt32?, at index: UInt32) throws(MapError) {
        guard Int(index) < maxEntries else { throw error(LinuxErrno.tooBig, "update", "slot \(index) is past the end (\(maxEntries) slots)") }
        slots.exchange(at: Int(index), with: id)
    }

    public func programLookup(key: UnsafeRawPointer, cpu: Int) -> UnsafeMutableRawPointer? { nil }
    public func programUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64, cpu: Int) -> Int64 { -Int64(LinuxErrno.invalid) }
    public func programDelete(key: UnsafeRawPointer) -> Int64 { -Int64(LinuxErrno.invalid) }

    override func hostLookup(key: UnsafeRawPointer, into value: UnsafeMutableRawPointer) -> Int32 {
        slots.lookup(key: key, into: value)
    }

    override func hostUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64) -> Int32 {
        let index = Int(key.loadUnaligned(as: UInt32.self))
        let status = slots.updateCheck(index: index, flags: flags)
        if status != 0 { return status }
        slots.exchange(at: index, with: value.loadUnaligned(as: UInt32.self))
        return 0
    }

    override func hostDelete(key: UnsafeRawPointer) -> Int32 {
        let index = Int(key.loadUnaligned(as: UInt32.self))
        guard index < maxEntries else { return LinuxErrno.invalid }
        return slots.exchange(at: index, with: nil) == nil ? LinuxErrno.noEntry : 0
    }

    override func hostNextKey(after key: UnsafeRawPointer?, into next: UnsafeMutableRawPointer) -> Int32 {
        arrayNextKey(after: key, into: next, maxEntries: maxEntries)
    }
}

/// The slots of the kernel's "fd arrays" (program arrays, arrays of maps): each empty or holding
/// a 32-bit id, in an atomic so that readers need no lock. A slot's address is stable, so an
/// array of maps hands it to programs as the inner map's reference.
final class SlotArray: @unchecked Sendable {
    static let empty = UInt64.max
    let cells: FixedArray<Atomic<UInt64>>

    init(count: Int) { cells = FixedArray(count: count) { _ in Atomic(SlotArray.empty) } }

    var count: Int { cells.count }

    @inline(__always)
    func id(at index: Int) -> UInt32? {
        guard index >= 0 && index < cells.count else { return nil }
        let cell = cells.pointer[index].load(ordering: .acquiring)
        return cell == SlotArray.empty ? nil : UInt32(truncatingIfNeeded: cell)
    }

    /// The previous id.
    @discardableResult
    func exchange(at index: Int, with id: UInt32?) -> UInt32? {
        let previous = cells.pointer[index].exchange(id.map { UInt64($0) } ?? SlotArray.empty, ordering: .acquiringAndReleasing)
        return previous == SlotArray.empty ? nil : UInt32(truncatingIfNeeded: previous)
    }

    @inline(__always)
    func address(of index: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(cells.pointer + index) }

    /// The index of the slot at `address`, if it is one.
    func index(at address: UnsafeRawPointer) -> Int? {
        let delta = Int(bitPattern: address) &- Int(bitPattern: UnsafeRawPointer(cells.pointer))
        let stride = MemoryLayout<Atomic<UInt64>>.stride
        guard delta >= 0, delta % stride == 0, delta / stride < cells.count else { return nil }
        return delta / stride
    }

    /// bpf(2)'s lookup of an fd array: the slot's id, ENOENT when empty or past the end.
    func lookup(key: UnsafeRawPointer, into value: UnsafeMutableRawPointer) -> Int32 {
        guard let id = id(at: Int(key.loadUnaligned(as: UInt32.self))) else { return LinuxErrno.noEntry }
        value.storeBytes(of: id, as: UInt32.self)
        return 0
    }

    /// bpf_fd_array_map_update_elem's checks: BPF_ANY only, then the index.
    func updateCheck(index: Int, flags: UInt64) -> Int32 {
        if flags != 0 { return LinuxErrno.invalid }
        if index >= cells.count { return LinuxErrno.tooBig }
        return 0
    }
}
