#if os(Linux)
@testable import BPFLinux
import BPFObject
import Foundation
import Glibc
import Synchronization
import TestPeers
import Testing

extension AttachKernelTests {
    /// Ring buffers and perf buffers carrying records from a tracepoint program
    /// (Fixtures/events.bpf.c, one record per getpgid call of this process) to Swift.
    @Suite struct EventBuffers {
        static let marker: UInt64 = 0x5357_4946_5442_5046
        static let recordSize = 24

        /// getpgid(first + i) for i in 0..<count: each call is one event carrying its argument.
        static func trigger(_ count: Int, from first: Int32) {
            for index in 0..<Int32(count) { _ = getpgid(first + index) }
        }

        /// The fixture with `program` attached to sys_enter_getpgid, counting this process.
        static func attached(_ program: String, tracker: AttachTests.Tracker) throws -> (LoadedFixture, Link) {
            let fixture = try LoadedFixture("events", tracker: tracker)
            try fixture.setTarget(getpid())
            let link = try Link.tracepoint("syscalls", "sys_enter_getpgid", program: try fixture.program(program))
            try tracker.track(link)
            return (fixture, link)
        }

        /// Checks one event record: this process, the marker, and returns (sequence, pid).
        static func decode(_ bytes: UnsafeRawBufferPointer, sourceLocation: SourceLocation = #_sourceLocation) -> (UInt32, UInt64) {
            #expect(bytes.count >= recordSize, sourceLocation: sourceLocation)
            guard bytes.count >= recordSize else { return (0, 0) }
            #expect(bytes.loadUnaligned(as: UInt32.self) == UInt32(getpid()), sourceLocation: sourceLocation)
            #expect(bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self) == marker, sourceLocation: sourceLocation)
            return (bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }

        /// Runs `body` as a child task, cancelled after `seconds` so that a lost wakeup fails
        /// the test instead of hanging it.
        static func withDeadline<T: Sendable>(seconds: Int = 20, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
            try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try? await Task.sleep(for: .seconds(seconds))
                    return nil
                }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let value = next { return value }
                    group.cancelAll()
                }
                throw AttachTests.ToolFailure(description: "no result")
            }
        }

        /// Runs `body` on a thread of its own pinned to `cpu`, and waits for it.
        static func onCPU(_ cpu: Int, _ body: @escaping @Sendable () -> Void) {
            let done = DispatchSemaphore(value: 0)
            let thread = Thread {
                #expect(AttachTests.pinThread(to: cpu))
                body()
                done.signal()
            }
            thread.start()
            done.wait()
        }

        // MARK: Ring buffer

        @Test func ringBufferDeliversEveryRecordInOrder() throws {
            try AttachTests.run { tracker in
                let (fixture, link) = try Self.attached("ring_getpgid", tracker: tracker)
                defer { fixture.close() }
                defer { link.close() }
                // The reader keeps a descriptor of its own: closing the caller's changes nothing.
                let opened = try Map(id: try fixture.map("ring").id)
                let ring = try RingBuffer(opened)
                opened.close()
                #expect(ring.capacity == 256 * 1024)

                Self.trigger(100, from: 1_000_000)
                #expect(ring.pendingBytes == 100 * (Self.recordSize + 8))
                var seen: [(UInt32, UInt64)] = []
                let count = ring.consume { seen.append(Self.decode($0)) }
                #expect(count == 100)
                #expect(seen.map(\.0) == Array(0..<100))
                #expect(seen.map(\.1) == (0..<100).map { UInt64(1_000_000 + $0) })
                #expect(ring.pendingBytes == 0)
                #expect(ring.consume { _ in } == 0)

                // A limit leaves the rest for later.
                Self.trigger(10, from: 2_000_000)
                #expect(ring.consume(limit: 4) { _ in } == 4)
                #expect(ring.poll(timeout: .milliseconds(10)) { _ in } == 6)
                #expect(ring.poll(timeout: .milliseconds(20)) { _ in } == 0, "times out with nothing to read")

                // 281 KiB of 32-byte records through a 256 KiB ring, read as they come: it wraps.
                var pids: [UInt64] = []
                for round in 0..<30 {
                    Self.trigger(300, from: Int32(3_000_000 + round * 300))
                    _ = ring.consume { pids.append(Self.decode($0).1) }
                }
                #expect(pids == (0..<9000).map { UInt64(3_000_000 + $0) })

                ring.close()
                #expect(!ring.epoll.isOpen)
                #expect(ring.consume { _ in } == 0, "a closed ring buffer reads nothing")
            }
        }

        @Test func ringBufferRecordsAsAnAsyncSequence() throws {
            try AttachTests.run { tracker in
                let (fixture, link) = try Self.attached("ring_getpgid", tracker: tracker)
                defer { fixture.close() }
                defer { link.close() }
                let map = try fixture.map("ring")
                // The producer starts after the consumer is waiting, and pauses halfway, so
                // the sequence has to wait for wakeups more than once.
                let records = try AttachTests.blocking {
                    async let produced: Void = {
                        try await Task.sleep(for: .milliseconds(100))
                        Self.trigger(15, from: 4_000_000)
                        try await Task.sleep(for: .milliseconds(100))
                        Self.trigger(15, from: 4_000_015)
                    }()
                    let records = try await Self.withDeadline { () async throws -> [RingBuffer.Record] in
                        let ring = try RingBuffer(map)
                        defer { ring.close() }
                        var records: [RingBuffer.Record] = []
                        for try await record in ring.records {
                            records.append(record)
                            if records.count == 30 { break }
                        }
                        return records
                    }
                    try await produced
                    return records
                }
                #expect(records.count == 30)
                #expect(records.map { $0.load(fromByteOffset: 8, as: UInt64.self) } == (0..<30).map { UInt64(4_000_000 + $0) })
                #expect(records.allSatisfy { $0.load(fromByteOffset: 16, as: UInt64.self) == Self.marker })
            }
        }

        @Test func cancellingTheTaskEndsTheSequence() throws {
            try AttachTests.run { tracker in
                let (fixture, link) = try Self.attached("ring_getpgid", tracker: tracker)
                defer { fixture.close() }
                defer { link.close() }
                let map = try fixture.map("ring")
                let (count, waited) = try AttachTests.blocking {
                    // On the test executor too: a plain Task needs the cooperative pool,
                    // whose threads may all be waiting for the kernel test lock.
                    let waiting = Task(executorPreference: ThreadExecutor.shared) { () async throws -> Int in
                        let ring = try RingBuffer(map)
                        defer { ring.close() }
                        var count = 0
                        for try await _ in ring.records { count += 1 }
                        return count
                    }
                    try await Task.sleep(for: .milliseconds(100))
                    let start = ContinuousClock.now
                    waiting.cancel()
                    let count = try await waiting.value
                    return (count, ContinuousClock.now - start)
                }
                #expect(count == 0)
                // Only "ends rather than hangs": with the whole suite running on two cores the
                // task may wait a long time for a pool thread, so this is no timing check.
                #expect(waited < .seconds(120))
            }
        }

        // MARK: Perf buffer

        @Test func perfBufferDeliversEverySample() throws {
            try AttachTests.run { tracker in
                let (fixture, link) = try Self.attached("perf_getpgid", tracker: tracker)
                defer { fixture.close() }
                defer { link.close() }
                let buffer = try PerfBuffer(try fixture.map("perf"), pagesPerCPU: 8)
                #expect(buffer.cpus == (try KernelFile.onlineCPUs()))

                Self.trigger(100, from: 5_000_000)
                var seen: [(UInt32, UInt64)] = []
                var lost: UInt64 = 0
                let count = buffer.consume { event in
                    switch event {
                    case .sample(_, let bytes):
                        // The kernel pads the raw bytes so that size + data keep 8-byte alignment.
                        #expect(bytes.count == Self.recordSize + 4)
                        seen.append(Self.decode(bytes))
                    case .lost(_, let count):
                        lost += count
                    }
                }
                #expect(count == 100)
                #expect(lost == 0 && buffer.lostSamples == 0)
                // Samples from different CPUs interleave; each CPU's are in order.
                #expect(seen.map(\.0).sorted() == Array(0..<100))
                #expect(Set(seen.map(\.1)) == Set((0..<100).map { UInt64(5_000_000 + $0) }))
                #expect(buffer.pendingBytes == 0)

                // Wrapping: 156 KiB of 40-byte records through 32 KiB per CPU, read as they come.
                var pids: [UInt64] = []
                for round in 0..<20 {
                    Self.trigger(200, from: Int32(6_000_000 + round * 200))
                    _ = buffer.consume { event in
                        if case .sample(_, let bytes) = event { pids.append(Self.decode(bytes).1) }
                    }
                }
                #expect(pids.sorted() == (0..<4000).map { UInt64(6_000_000 + $0) })
                #expect(buffer.poll(timeout: .milliseconds(20)) { _ in } == 0)
                buffer.close()
                #expect(!buffer.epoll.isOpen)
            }
        }

        @Test func perfBufferCountsLostSamples() throws {
            try AttachTests.run { tracker in
                let (fixture, link) = try Self.attached("perf_getpgid", tracker: tracker)
                defer { fixture.close() }
                defer { link.close() }
                // One page per CPU holds about 100 samples of 40 bytes.
                let buffer = try PerfBuffer(try fixture.map("perf"), pagesPerCPU: 1)
                defer { buffer.close() }
                Self.onCPU(0) { Self.trigger(2000, from: 7_000_000) }
                var samples = 0
                var lostEvents = 0
                let consume = {
                    _ = buffer.consume { event in
                        switch event {
                        case .sample: samples += 1
                        case .lost: lostEvents += 1
                        }
                    }
                }
                consume()
                #expect(samples > 0 && samples < 2000)
                // The kernel reports the loss with the next sample that fits.
                Self.onCPU(0) { Self.trigger(1, from: 7_002_000) }
                consume()
                #expect(lostEvents >= 1)
                #expect(buffer.lostSamples > 0)
                #expect(UInt64(samples) + buffer.lostSamples == 2001, "\(samples) samples, \(buffer.lostSamples) lost")
            }
        }

        @Test func perfBufferRecordsAsAnAsyncSequence() throws {
            try AttachTests.run { tracker in
                let (fixture, link) = try Self.attached("perf_getpgid", tracker: tracker)
                defer { fixture.close() }
                defer { link.close() }
                let map = try fixture.map("perf")
                let records = try AttachTests.blocking {
                    async let produced: Void = {
                        try await Task.sleep(for: .milliseconds(100))
                        Self.trigger(20, from: 8_000_000)
                    }()
                    let records = try await Self.withDeadline { () async throws -> [PerfBuffer.Record] in
                        let buffer = try PerfBuffer(map)
                        defer { buffer.close() }
                        var records: [PerfBuffer.Record] = []
                        for try await record in buffer.records {
                            records.append(record)
                            if records.count == 20 { break }
                        }
                        return records
                    }
                    try await produced
                    return records
                }
                let pids = records.compactMap { record -> UInt64? in
                    guard case .sample(_, let bytes) = record else { return nil }
                    return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self) }
                }
                #expect(Set(pids) == Set((0..<20).map { UInt64(8_000_000 + $0) }))
            }
        }

        @Test func readersRefuseTheWrongMapsWithAReason() throws {
            try AttachTests.run { tracker in
                let fixture = try LoadedFixture("events", tracker: tracker)
                defer { fixture.close() }
                let notRing = #expect(throws: BPFError.self) { try RingBuffer(try fixture.map("counts")) }
                #expect(notRing?.description.contains("a RingBuffer reads ringbuf maps; this map is a array map") == true,
                        "\(String(describing: notRing))")
                let notPerf = #expect(throws: BPFError.self) { try PerfBuffer(try fixture.map("ring")) }
                #expect(notPerf?.description.contains("reads perf_event_array maps") == true)
                let pages = #expect(throws: BPFError.self) { try PerfBuffer(try fixture.map("perf"), pagesPerCPU: 3) }
                #expect(pages?.description.contains("power of two") == true)
                let cpu = #expect(throws: BPFError.self) { try PerfBuffer(try fixture.map("perf"), cpus: [4096]) }
                #expect(cpu?.description.contains("CPU 4096 has no slot") == true)
            }
        }
    }
}
#endif
