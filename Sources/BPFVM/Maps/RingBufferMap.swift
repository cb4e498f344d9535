import BPFObject
import Synchronization

/// `BPF_MAP_TYPE_RINGBUF`: records from programs to the host, in the order they were reserved.
///
/// As in the kernel, each record has an 8-byte header (length, with a busy bit while the
/// program still fills it and a discard bit when it gave it up) and is rounded up to 8 bytes,
/// and the producer may not get more than `size - 1` bytes ahead of the consumer, nor of the
/// oldest record still being filled. The kernel maps its data pages twice so that a record
/// running past the end stays contiguous; here the data area is simply twice the ring's size,
/// and a record starting at offset `p` occupies `p ..< p + length` of it — the part past the
/// end is never wrapped, because only the record's start position is ever wrapped.
///
/// Programs: `reserve` / `submit` / `discard` / `output` / `query`, the helpers' semantics.
/// Host: `consume` reads committed records in order, skipping discarded ones, and stops at a
/// record still being filled. Headers and positions change only under one lock; a record's
/// bytes are the program's between reserve and submit, and the consumer's after.
public final class RingBufferMap: UserspaceMapBase, UserspaceMap, @unchecked Sendable {
    /// Data bytes in the ring (`maxEntries`).
    public let size: Int
    let data: MapMemory
    let positions = Mutex<(producer: UInt64, consumer: UInt64, pending: UInt64)>((0, 0, 0))
    public let storage: [MemoryRegion]

    static let headerSize = 8
    static let busyBit: UInt32 = 1 << 31
    static let discardBit: UInt32 = 1 << 30
    static let maxRecordSize = Int(UInt32.max / 4)

    /// `bpf_ringbuf_submit`/`output` flags and `bpf_ringbuf_query` questions.
    public static let noWakeup: UInt64 = 1
    public static let forceWakeup: UInt64 = 2
    public static let availableData: UInt64 = 0
    public static let ringSize: UInt64 = 1
    public static let consumerPosition: UInt64 = 2
    public static let producerPosition: UInt64 = 3

    init(spec: MapSpec) {
        size = Int(spec.maxEntries)
        data = MapMemory(count: 2 * size)
        storage = [data.region("\(spec.name) records")]
        super.init(spec)
    }

    // MARK: Programs

    /// bpf_ringbuf_reserve: room for `count` bytes, or nil when the ring has none (or `flags`
    /// is not 0). The record stays busy, holding back the consumer, until submitted or discarded.
    public func reserve(count: Int, flags: UInt64 = 0) -> UnsafeMutableRawPointer? {
        guard flags == 0, count >= 0, count <= RingBufferMap.maxRecordSize else { return nil }
        let length = (count + RingBufferMap.headerSize + 7) & ~7
        guard length <= size else { return nil }
        return positions.withLock { positions in
            // Records already committed no longer hold the producer back.
            var pending = positions.pending
            while pending < positions.producer {
                let header = header(at: pending)
                if header & RingBufferMap.busyBit != 0 { break }
                pending += UInt64((Int(header & ~RingBufferMap.discardBit) + RingBufferMap.headerSize + 7) & ~7)
            }
            positions.pending = pending
            let end = positions.producer + UInt64(length)
            guard end - positions.consumer <= UInt64(size - 1), end - pending <= UInt64(size - 1) else { return nil }
            let record = data.base + Int(positions.producer % UInt64(size))
            record.storeBytes(of: UInt32(count) | RingBufferMap.busyBit, as: UInt32.self)
            // The kernel's page offset back to its ring; nothing here needs it.
            record.storeBytes(of: 0, toByteOffset: 4, as: UInt32.self)
            positions.producer = end
            return record + RingBufferMap.headerSize
        }
    }

    /// bpf_ringbuf_submit: the record is ready for the consumer. A pointer not from `reserve`
    /// of this ring is ignored (the verifier only lets programs pass their own records).
    public func submit(_ record: UnsafeMutableRawPointer, flags: UInt64 = 0) { commit(record, discard: false) }

    /// bpf_ringbuf_discard: the record is dropped; the consumer skips it.
    public func discard(_ record: UnsafeMutableRawPointer, flags: UInt64 = 0) { commit(record, discard: true) }

    func commit(_ record: UnsafeMutableRawPointer, discard: Bool) {
        guard let offset = data.offset(of: record - RingBufferMap.headerSize) else { return }
        positions.withLock { _ in
            let header = data.base + offset
            var length = header.load(as: UInt32.self)
            guard length & RingBufferMap.busyBit != 0 else { return }
            length &= ~RingBufferMap.busyBit
            if discard { length |= RingBufferMap.discardBit }
            header.storeBytes(of: length, as: UInt32.self)
        }
    }

    /// bpf_ringbuf_output: copies `count` bytes in as one record. 0, -EAGAIN when the ring has
    /// no room, -EINVAL for flags other than the wakeup ones.
    public func output(_ bytes: UnsafeRawPointer, count: Int, flags: UInt64 = 0) -> Int64 {
        guard flags & ~(RingBufferMap.noWakeup | RingBufferMap.forceWakeup) == 0 else { return -Int64(LinuxErrno.invalid) }
        guard let record = reserve(count: count) else { return -Int64(LinuxErrno.tryAgain) }
        record.copyMemory(from: bytes, byteCount: count)
        submit(record)
        return 0
    }

    /// bpf_ringbuf_query: bytes waiting, the ring's size, or the consumer's or producer's
    /// position; 0 for other questions.
    public func query(_ question: UInt64) -> UInt64 {
        positions.withLock { positions in
            switch question {
            case RingBufferMap.availableData: return positions.producer - positions.consumer
            case RingBufferMap.ringSize: return UInt64(size)
            case RingBufferMap.consumerPosition: return positions.consumer
            case RingBufferMap.producerPosition: return positions.producer
            default: return 0
            }
        }
    }

    // MARK: Host

    /// Hands each committed record, in order, to `body`, skipping discarded ones; stops at a
    /// record still being filled. The bytes are valid during the call only. The count of
    /// records handed over.
    @discardableResult
    public func consume(_ body: (UnsafeRawBufferPointer) -> Void) -> Int {
        var handed = 0
        while true {
            let next: (position: UInt64, length: Int, discarded: Bool)? = positions.withLock { positions in
                guard positions.consumer < positions.producer else { return nil }
                let header = header(at: positions.consumer)
                if header & RingBufferMap.busyBit != 0 { return nil }
                return (positions.consumer, Int(header & ~RingBufferMap.discardBit), header & RingBufferMap.discardBit != 0)
            }
            guard let next else { return handed }
            if !next.discarded {
                body(UnsafeRawBufferPointer(start: data.base + Int(next.position % UInt64(size)) + RingBufferMap.headerSize,
                                            count: next.length))
                handed += 1
            }
            positions.withLock { positions in
                positions.consumer = next.position + UInt64((next.length + RingBufferMap.headerSize + 7) & ~7)
            }
        }
    }

    /// The committed records, consumed.
    public func records() -> [[UInt8]] {
        var records: [[UInt8]] = []
        consume { records.append(Array($0)) }
        return records
    }

    @inline(__always)
    func header(at position: UInt64) -> UInt32 {
        data.base.load(fromByteOffset: Int(position % UInt64(size)), as: UInt32.self)
    }

    // MARK: The generic members: a ring buffer has no elements (the kernel's ENOTSUPP)

    public func programLookup(key: UnsafeRawPointer, cpu: Int) -> UnsafeMutableRawPointer? { nil }
    public func programUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64, cpu: Int) -> Int64 { -Int64(LinuxErrno.notSupported) }
    public func programDelete(key: UnsafeRawPointer) -> Int64 { -Int64(LinuxErrno.notSupported) }
}
