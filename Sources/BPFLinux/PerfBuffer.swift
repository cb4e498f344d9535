#if os(Linux)
import BPFObject
import CBPFLinux
import Glibc

/// Reads a `BPF_MAP_TYPE_PERF_EVENT_ARRAY` map: what programs send with
/// `bpf_perf_event_output`, through one perf ring per CPU (a `PERF_COUNT_SW_BPF_OUTPUT`
/// event, mmap'd, stored in the map at the CPU's index).
///
/// Each ring delivers samples (`PERF_RECORD_SAMPLE` with the raw bytes the program sent,
/// padded by the kernel to keep 8-byte alignment) and, when the program outran the reader,
/// the number of samples dropped (`PERF_RECORD_LOST`), which `lostSamples` adds up. A record
/// that wraps around the end of its ring is copied into a buffer allocated once; others are
/// handed over in place. `records` is the same stream as an `AsyncSequence`.
///
/// One consumer: the class is not `Sendable`, so one task or thread owns it.
public final class PerfBuffer {
    /// One per-CPU ring.
    @usableFromInline struct Ring {
        @usableFromInline let cpu: Int
        /// The perf_event_mmap_page, then the data pages.
        @usableFromInline let base: UnsafeMutableRawPointer
        @usableFromInline let data: UnsafeRawPointer
        @usableFromInline let size: Int
        let length: Int
        let event: Int32
    }

    /// What `consume` hands over: a sample in place (valid during the call only), or a count
    /// of samples the kernel dropped because the ring was full.
    public enum Event {
        case sample(cpu: Int, UnsafeRawBufferPointer)
        case lost(cpu: Int, count: UInt64)
    }

    /// A descriptor of the map of its own: closing the reader empties the map's slots.
    public let map: FileDescriptor
    /// The CPUs with a ring, in ring order.
    public let cpus: [Int]
    /// Samples dropped so far, as the kernel reported them.
    public var lostSamples: UInt64 { lostCount }
    @usableFromInline var lostCount: UInt64 = 0
    @usableFromInline let rings: UnsafeMutableBufferPointer<Ring>
    /// Where records that wrap are made contiguous (a record is at most 64 KiB).
    @usableFromInline let scratch: UnsafeMutableRawPointer
    @usableFromInline static let scratchSize = 1 << 16
    /// The ring `consume` starts at, rotated so that a busy CPU cannot starve the others.
    @usableFromInline var nextRing = 0
    @usableFromInline var closed = false
    let epoll: FileDescriptor
    private let events: [FileDescriptor]

    @usableFromInline static let recordLost: UInt32 = 2    // PERF_RECORD_LOST
    @usableFromInline static let recordSample: UInt32 = 9  // PERF_RECORD_SAMPLE

    /// Opens a ring of `pagesPerCPU` pages (a power of two) on each of `cpus` (default: the
    /// online CPUs the map has slots for) and installs them in `map`. The kernel signals the
    /// reader after `wakeupEvents` samples.
    public convenience init(_ map: Map, pagesPerCPU: Int = 8, wakeupEvents: UInt32 = 1, cpus: [Int]? = nil) throws(BPFError) {
        try self.init(map: map.fileDescriptor, pagesPerCPU: pagesPerCPU, wakeupEvents: wakeupEvents, cpus: cpus)
    }

    public init(map: FileDescriptor, pagesPerCPU: Int = 8, wakeupEvents: UInt32 = 1, cpus: [Int]? = nil) throws(BPFError) {
        let info = try EventMap.describe(map, expecting: .perfEventArray, reader: "PerfBuffer")
        guard pagesPerCPU > 0, pagesPerCPU <= 1 << 16, pagesPerCPU & (pagesPerCPU - 1) == 0 else {
            throw BPFError(operation: "PerfBuffer", errno: EINVAL, subject: "map \(info.id)",
                           detail: "pagesPerCPU must be a power of two, not \(pagesPerCPU)")
        }
        var chosen: [Int] = []
        if let cpus {
            chosen = cpus
        } else {
            for cpu in try KernelFile.onlineCPUs() where cpu < Int(info.maxEntries) { chosen.append(cpu) }
        }
        guard !chosen.isEmpty else {
            throw BPFError(operation: "PerfBuffer", errno: EINVAL, subject: "map \(info.id)", detail: "no CPUs to read from")
        }
        for cpu in chosen where cpu < 0 || cpu >= Int(info.maxEntries) {
            throw BPFError(operation: "PerfBuffer", errno: E2BIG, subject: "map \(info.id)",
                           detail: "CPU \(cpu) has no slot: the map has \(info.maxEntries) entries")
        }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let map = try map.duplicate()
        var opened: [Ring] = []
        var events: [FileDescriptor] = []
        var eventNumbers: [Int32] = []
        do throws(BPFError) {
            for cpu in chosen {
                let (ring, event) = try Self.openRing(cpu: cpu, map: map, pages: pagesPerCPU, pageSize: pageSize, wakeupEvents: wakeupEvents)
                opened.append(ring)
                events.append(event)
                eventNumbers.append(event.rawValue)
            }
            epoll = try EventMap.epoll(watching: eventNumbers, what: "perf buffer")
        } catch {
            for index in opened.indices { Self.release(opened[index], event: events[index], map: map) }
            map.close()
            throw error
        }
        self.map = map
        self.cpus = chosen
        self.events = events
        rings = Self.allocateRings(opened)
        scratch = .allocate(byteCount: Self.scratchSize, alignment: 8)
    }

    @inline(never)
    private static func allocateRings(_ rings: [Ring]) -> UnsafeMutableBufferPointer<Ring> {
        let buffer = UnsafeMutableBufferPointer<Ring>.allocate(capacity: rings.count)
        _ = buffer.initialize(from: rings)
        return buffer
    }

    /// One CPU's event: opened, mapped, stored in the map and enabled.
    private static func openRing(cpu: Int, map: FileDescriptor, pages: Int, pageSize: Int,
                                 wakeupEvents: UInt32) throws(BPFError) -> (ring: Ring, event: FileDescriptor) {
        var attr = perf_event_attr()
        attr.type = PERF_TYPE_SOFTWARE.rawValue
        attr.config = UInt64(PERF_COUNT_SW_BPF_OUTPUT.rawValue)
        attr.sample_type = UInt64(PERF_SAMPLE_RAW.rawValue)
        attr.sample_period = 1
        attr.wakeup_events = max(1, wakeupEvents)
        let event = try openPerfEvent(&attr, pid: -1, cpu: Int32(cpu), hook: "perf buffer on CPU \(cpu)")
        let length = (pages + 1) * pageSize
        guard let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, event.rawValue, 0), base != MAP_FAILED else {
            let code = errno
            event.close()
            throw BPFError(operation: "mmap", errno: code, subject: "perf buffer on CPU \(cpu) (\(length) bytes)",
                           detail: code == EPERM || code == ENOMEM ? "the mapping exceeds perf_event_mlock_kb or RLIMIT_MEMLOCK; use fewer pages" : nil)
        }
        let ring = Ring(cpu: cpu, base: base, data: UnsafeRawPointer(base) + pageSize, size: pages * pageSize,
                        length: length, event: event.rawValue)
        do throws(BPFError) {
            var key = UInt32(cpu)
            var value = event.rawValue
            do {
                try SystemCall.updateElement(map: map.rawValue, key: &key, value: &value)
            } catch {
                var explained = error
                explained.subject = "perf buffer slot for CPU \(cpu)"
                throw explained
            }
            guard swiftbpf_ioctl(event.rawValue, SWIFTBPF_PERF_EVENT_IOC_ENABLE, 0) == 0 else {
                throw BPFError(operation: "ioctl(PERF_EVENT_IOC_ENABLE)", errno: swiftbpf_errno(), subject: "perf buffer on CPU \(cpu)")
            }
        } catch {
            release(ring, event: event, map: map)
            throw error
        }
        return (ring, event)
    }

    /// Stops the event, takes it out of the map, unmaps and closes it.
    @inline(never)
    private static func release(_ ring: Ring, event: FileDescriptor, map: FileDescriptor) {
        _ = swiftbpf_ioctl(ring.event, SWIFTBPF_PERF_EVENT_IOC_DISABLE, 0)
        var key = UInt32(ring.cpu)
        _ = try? SystemCall.deleteElement(map: map.rawValue, key: &key)
        munmap(ring.base, ring.length)
        event.close()
    }

    /// Samples and loss reports waiting in all rings, in bytes.
    public var pendingBytes: Int {
        guard !closed else { return 0 }
        var total = 0
        for ring in rings {
            let head = swiftbpf_load_acquire_u64(ring.base + Int(SWIFTBPF_PERF_MMAP_DATA_HEAD))
            let tail = swiftbpf_load_acquire_u64(ring.base + Int(SWIFTBPF_PERF_MMAP_DATA_TAIL))
            total += Int(truncatingIfNeeded: head &- tail)
        }
        return total
    }

    /// Hands every record that is ready, up to `limit`, to `body` and frees its space for
    /// the kernel; returns how many were handed over (samples and loss reports). Samples are
    /// valid only during the call. Loss reports are also added to `lostSamples`. If `body`
    /// throws, the record it was given counts as consumed.
    @inlinable
    public func consume<E: Error>(limit: Int = .max, _ body: (Event) throws(E) -> Void) throws(E) -> Int {
        guard !closed, rings.count > 0 else { return 0 }
        var count = 0
        var visited = 0
        var index = nextRing
        while visited < rings.count && count < limit {
            count += try consume(ring: rings[index], limit: limit - count, body)
            index = index + 1 == rings.count ? 0 : index + 1
            visited += 1
        }
        nextRing = index
        return count
    }

    @inlinable
    func consume<E: Error>(ring: Ring, limit: Int, _ body: (Event) throws(E) -> Void) throws(E) -> Int {
        let tailAddress = ring.base + Int(SWIFTBPF_PERF_MMAP_DATA_TAIL)
        let head = swiftbpf_load_acquire_u64(ring.base + Int(SWIFTBPF_PERF_MMAP_DATA_HEAD))
        var tail = swiftbpf_load_acquire_u64(tailAddress)
        let mask = ring.size - 1
        var count = 0
        while tail < head && count < limit {
            let offset = Int(truncatingIfNeeded: tail) & mask
            // The 8-byte header may itself wrap; read it byte-wise into place when it does.
            let header: UnsafeRawPointer
            let recordSize: Int
            let firstSize = UInt16(truncatingIfNeeded: Int(Self.headerByte(ring, offset + 6)) | Int(Self.headerByte(ring, offset + 7)) << 8)
            recordSize = Int(firstSize)
            // A size the kernel never writes means the ring is not what we think: drop it all.
            guard recordSize >= 8, recordSize <= ring.size, UInt64(recordSize) <= head - tail else {
                tail = head
                break
            }
            if offset + recordSize <= ring.size {
                header = ring.data + offset
            } else {
                let first = ring.size - offset
                scratch.copyMemory(from: ring.data + offset, byteCount: first)
                (scratch + first).copyMemory(from: ring.data, byteCount: recordSize - first)
                header = UnsafeRawPointer(scratch)
            }
            let type = header.loadUnaligned(as: UInt32.self)
            let next = tail + UInt64(recordSize)
            if type == Self.recordSample, recordSize >= 12 {
                let rawSize = Int(header.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
                if rawSize <= recordSize - 12 {
                    count += 1
                    do {
                        try body(.sample(cpu: ring.cpu, UnsafeRawBufferPointer(start: header + 12, count: rawSize)))
                    } catch {
                        swiftbpf_store_release_u64(tailAddress, next)
                        throw error
                    }
                }
            } else if type == Self.recordLost, recordSize >= 24 {
                let lost = header.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
                lostCount &+= lost
                count += 1
                do {
                    try body(.lost(cpu: ring.cpu, count: lost))
                } catch {
                    swiftbpf_store_release_u64(tailAddress, next)
                    throw error
                }
            }
            tail = next
            swiftbpf_store_release_u64(tailAddress, tail)
        }
        swiftbpf_store_release_u64(tailAddress, tail)
        return count
    }

    @inlinable
    static func headerByte(_ ring: Ring, _ offset: Int) -> UInt8 {
        ring.data.load(fromByteOffset: offset & (ring.size - 1), as: UInt8.self)
    }

    /// Consumes what is ready; if nothing is, blocks the calling thread until a record comes
    /// or `timeout` passes (nil: wait indefinitely), then consumes. Meant for a thread of
    /// the caller's own: async code should iterate `records` instead.
    @inlinable
    public func poll<E: Error>(timeout: Duration? = nil, _ body: (Event) throws(E) -> Void) throws(E) -> Int {
        let count = try consume(body)
        if count > 0 || closed { return count }
        guard waitForData(timeout: timeout) else { return 0 }
        return try consume(body)
    }

    @usableFromInline
    func waitForData(timeout: Duration?) -> Bool {
        EventMap.wait(epoll.rawValue, timeout: timeout)
    }

    /// Stops and closes every CPU's event and takes them out of the map.
    public func close() {
        guard !closed else { return }
        closed = true
        for (index, ring) in rings.enumerated() { Self.release(ring, event: events[index], map: map) }
        epoll.close()
        map.close()
        rings.deallocate()
        scratch.deallocate()
    }

    deinit { close() }
}
#endif
