#if os(Linux)
import BPFObject
import CBPFLinux
import Glibc

/// Reads a `BPF_MAP_TYPE_RINGBUF` map: the records programs submit with
/// `bpf_ringbuf_output` / `bpf_ringbuf_reserve` + `submit`, in order, straight from memory
/// shared with the kernel.
///
/// The consumer page is mapped read-write, the producer page and the data read-only, with
/// the data mapped twice in a row so that a record that wraps around the end is still
/// contiguous. `consume` hands each record to a closure as a buffer pointing into that
/// memory — no copy, no allocation, no reference counting per record, and, being
/// inlinable, no closure call once specialized. `records` is the same stream as an
/// `AsyncSequence` of copies; its waits go through a dedicated epoll thread.
///
/// A ring buffer has one consumer: the class is not `Sendable`, so one task or thread owns it.
public final class RingBuffer {
    /// A descriptor of the map of its own, so that the reader keeps working (and waiting)
    /// whatever happens to the caller's.
    public let map: FileDescriptor
    /// Bytes of record data the map holds (its max_entries, a power of two).
    public let capacity: Int
    @usableFromInline let consumerPosition: UnsafeMutableRawPointer
    @usableFromInline let producerPosition: UnsafeRawPointer
    @usableFromInline let data: UnsafeRawPointer
    @usableFromInline let mask: UInt64
    @usableFromInline var closed = false
    private let consumerLength: Int
    private let producerLength: Int
    /// epoll on the map alone: what `poll` blocks in and what async waits register.
    let epoll: FileDescriptor

    @usableFromInline static let busyBit: UInt32 = 1 << 31
    @usableFromInline static let discardBit: UInt32 = 1 << 30
    @usableFromInline static let headerSize = 8

    /// Maps the ring buffer `map` (a `ringbuf` map).
    public convenience init(_ map: Map) throws(BPFError) {
        try self.init(map: map.fileDescriptor)
    }

    /// Maps the ring buffer map behind descriptor `map`.
    public init(map: FileDescriptor) throws(BPFError) {
        let info = try EventMap.describe(map, expecting: .ringBuffer, reader: "RingBuffer")
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let capacity = Int(info.maxEntries)
        guard capacity > 0, capacity & (capacity - 1) == 0, capacity % pageSize == 0 else {
            throw BPFError(operation: "RingBuffer", errno: EINVAL, subject: "map \(info.id)",
                           detail: "ring buffer size \(capacity) is not a power-of-two multiple of the page size")
        }
        let map = try map.duplicate()
        self.map = map
        self.capacity = capacity
        mask = UInt64(capacity - 1)
        consumerLength = pageSize
        producerLength = pageSize + 2 * capacity

        guard let consumer = mmap(nil, consumerLength, PROT_READ | PROT_WRITE, MAP_SHARED, map.rawValue, 0),
              consumer != MAP_FAILED else {
            throw BPFError(operation: "mmap", errno: errno, subject: "ring buffer consumer page")
        }
        guard let producer = mmap(nil, producerLength, PROT_READ, MAP_SHARED, map.rawValue, off_t(pageSize)),
              producer != MAP_FAILED else {
            let code = errno
            munmap(consumer, consumerLength)
            map.close()
            throw BPFError(operation: "mmap", errno: code, subject: "ring buffer data (\(producerLength) bytes)")
        }
        consumerPosition = consumer
        producerPosition = UnsafeRawPointer(producer)
        data = UnsafeRawPointer(producer) + pageSize
        do {
            epoll = try EventMap.epoll(watching: [map.rawValue], what: "ring buffer")
        } catch {
            munmap(consumer, consumerLength)
            munmap(producer, producerLength)
            map.close()
            throw error
        }
    }

    /// Bytes submitted but not yet consumed (records, headers and padding).
    public var pendingBytes: Int {
        guard !closed else { return 0 }
        return Int(truncatingIfNeeded: swiftbpf_load_acquire_u64(producerPosition) &- swiftbpf_load_acquire_u64(consumerPosition))
    }

    /// Hands every record that is ready, up to `limit`, to `body` — in place, valid only
    /// during the call — and frees its space for the kernel. Returns how many were handed
    /// over; records a program discarded are skipped. Stops at a record still being
    /// written. If `body` throws, the record it was given counts as consumed.
    @inlinable
    public func consume<E: Error>(limit: Int = .max, _ body: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) -> Int {
        guard !closed else { return 0 }
        var consumer = swiftbpf_load_acquire_u64(consumerPosition)
        var count = 0
        while count < limit {
            let producer = swiftbpf_load_acquire_u64(producerPosition)
            if consumer >= producer { break }
            while consumer < producer && count < limit {
                let header = data + Int(truncatingIfNeeded: consumer & mask)
                let length = swiftbpf_load_acquire_u32(header)
                if length & Self.busyBit != 0 { return count }
                let size = Int(length & ~(Self.busyBit | Self.discardBit))
                // The kernel never writes a longer record; checked so that a corrupt header
                // cannot send us past the double mapping.
                guard size <= Int(truncatingIfNeeded: mask) + 1 - Self.headerSize else { return count }
                let next = consumer + UInt64((size + Self.headerSize + 7) & ~7)
                if length & Self.discardBit == 0 {
                    count += 1
                    do {
                        try body(UnsafeRawBufferPointer(start: header + Self.headerSize, count: size))
                    } catch {
                        swiftbpf_store_release_u64(consumerPosition, next)
                        throw error
                    }
                }
                consumer = next
                // Released per record, as libbpf does, so the kernel can reuse space at once.
                swiftbpf_store_release_u64(consumerPosition, consumer)
            }
        }
        return count
    }

    /// Consumes what is ready; if nothing is, blocks the calling thread until a record comes
    /// or `timeout` passes (nil: wait indefinitely), then consumes. Meant for a thread of
    /// the caller's own: async code should iterate `records` instead.
    @inlinable
    public func poll<E: Error>(timeout: Duration? = nil, _ body: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) -> Int {
        let count = try consume(body)
        if count > 0 || closed { return count }
        guard waitForData(timeout: timeout) else { return 0 }
        return try consume(body)
    }

    /// epoll_wait on the map; false on timeout or error.
    @usableFromInline
    func waitForData(timeout: Duration?) -> Bool {
        EventMap.wait(epoll.rawValue, timeout: timeout)
    }

    /// Unmaps the memory and closes the reader's descriptors; the map lives on while
    /// others hold it.
    public func close() {
        guard !closed else { return }
        closed = true
        munmap(consumerPosition, consumerLength)
        munmap(UnsafeMutableRawPointer(mutating: producerPosition), producerLength)
        epoll.close()
        map.close()
    }

    deinit { close() }
}
#endif
