#if os(Linux)
import Glibc

extension PerfBuffer: PolledRecordSource {
    /// One record, copied out of a perf ring.
    public enum Record: Sendable, Hashable {
        /// What a program sent, with the kernel's padding to 8-byte alignment.
        case sample(cpu: Int, bytes: [UInt8])
        /// Samples the kernel dropped on `cpu` because the ring was full.
        case lost(cpu: Int, count: UInt64)
    }

    /// The records as an async sequence, one copy each. Waiting suspends the task (the
    /// epoll_wait runs on SwiftBPF's poller thread, not in the cooperative pool); cancelling
    /// the task ends the sequence. Records wait in the kernel's rings until asked for.
    public var records: EventRecords<PerfBuffer> { EventRecords(source: self) }

    /// One record copied out, or nil. Out of line: a closure inlined into the iterator's
    /// typed-throws `next` can have its error clobbered by Swift 6.3's optimizer.
    @inline(never)
    public func nextRecord() -> Record? {
        var record: Record?
        _ = consume(limit: 1) { event in
            switch event {
            case .sample(let cpu, let bytes): record = .sample(cpu: cpu, bytes: Array(bytes))
            case .lost(let cpu, let count): record = .lost(cpu: cpu, count: count)
            }
        }
        return record
    }

    public var isClosedForReading: Bool { closed }
    public var readinessDescriptor: Int32 { epoll.rawValue }
}
#endif
