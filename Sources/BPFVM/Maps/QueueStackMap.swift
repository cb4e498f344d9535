import BPFObject
import Synchronization

/// `BPF_MAP_TYPE_QUEUE` (first in, first out) and `BPF_MAP_TYPE_STACK` (last in, first out):
/// values without keys in a ring of `maxEntries + 1` slots under one lock, as the kernel keeps
/// them. A push to a full map fails with E2BIG unless it carries BPF_EXIST, which drops the
/// oldest value to make room. Through the host API, `update` with an empty key pushes, `lookup`
/// peeks and `lookupAndDelete` pops (bpf(2)'s commands for them); delete and nextKey are EINVAL.
public final class QueueStackMap: UserspaceMapBase, UserspaceMap, @unchecked Sendable, PushPopMap {
    let isStack: Bool
    let slotCount: Int
    let slots: MapMemory
    /// Next slot to write, and the oldest value's slot; equal when empty.
    let ends = Mutex<(head: Int, tail: Int)>((0, 0))
    public var storage: [MemoryRegion] { [] }

    init(spec: MapSpec) {
        isStack = spec.type == .stack
        slotCount = Int(spec.maxEntries) + 1
        slots = MapMemory(count: slotCount * Int(spec.valueSize))
        super.init(spec)
    }

    static func bytesNeeded(_ spec: MapSpec) -> Int { (Int(spec.maxEntries) + 1) * Int(spec.valueSize) }

    @inline(__always) func slot(_ index: Int) -> UnsafeMutableRawPointer { slots.base + index * valueSize }

    // MARK: Push, pop, peek

    public func programPush(value: UnsafeRawPointer, flags: UInt64) -> Int64 {
        if flags & MapUpdateFlags.noExist.rawValue != 0 || flags > MapUpdateFlags.exist.rawValue { return -Int64(LinuxErrno.invalid) }
        let replace = flags & MapUpdateFlags.exist.rawValue != 0
        return ends.withLock { ends in
            let nextHead = ends.head + 1 == slotCount ? 0 : ends.head + 1
            if nextHead == ends.tail {
                guard replace else { return -Int64(LinuxErrno.tooBig) }
                // Full: the oldest value goes.
                ends.tail = ends.tail + 1 == slotCount ? 0 : ends.tail + 1
            }
            slot(ends.head).copyMemory(from: value, byteCount: valueSize)
            ends.head = nextHead
            return 0
        }
    }

    public func programPop(into value: UnsafeMutableRawPointer) -> Int64 { take(into: value, remove: true) }

    public func programPeek(into value: UnsafeMutableRawPointer) -> Int64 { take(into: value, remove: false) }

    func take(into value: UnsafeMutableRawPointer, remove: Bool) -> Int64 {
        ends.withLock { ends in
            guard ends.head != ends.tail else { return -Int64(LinuxErrno.noEntry) }
            if isStack {
                let top = ends.head == 0 ? slotCount - 1 : ends.head - 1
                value.copyMemory(from: slot(top), byteCount: valueSize)
                if remove { ends.head = top }
            } else {
                value.copyMemory(from: slot(ends.tail), byteCount: valueSize)
                if remove { ends.tail = ends.tail + 1 == slotCount ? 0 : ends.tail + 1 }
            }
            return 0
        }
    }

    /// Values in the map now.
    public var count: Int { ends.withLock { ($0.head - $0.tail + slotCount) % slotCount } }

    // MARK: The generic members, as the kernel's map ops for queues and stacks answer them

    public func programLookup(key: UnsafeRawPointer, cpu: Int) -> UnsafeMutableRawPointer? { nil }
    public func programUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64, cpu: Int) -> Int64 { -Int64(LinuxErrno.invalid) }
    public func programDelete(key: UnsafeRawPointer) -> Int64 { -Int64(LinuxErrno.invalid) }

    override func hostLookup(key: UnsafeRawPointer, into value: UnsafeMutableRawPointer) -> Int32 {
        Int32(-programPeek(into: value))
    }

    override func hostUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64) -> Int32 {
        Int32(-programPush(value: value, flags: flags))
    }

    override func hostLookupAndDelete(key: UnsafeRawPointer, into value: UnsafeMutableRawPointer) -> Int32 {
        Int32(-programPop(into: value))
    }

    override func hostDelete(key: UnsafeRawPointer) -> Int32 { LinuxErrno.invalid }
    override func hostNextKey(after key: UnsafeRawPointer?, into next: UnsafeMutableRawPointer) -> Int32 { LinuxErrno.invalid }
}
