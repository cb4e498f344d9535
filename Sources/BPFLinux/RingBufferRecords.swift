#if os(Linux)
import Glibc

extension RingBuffer: PolledRecordSource {
    /// One record, copied out of the ring buffer.
    public struct Record: Sendable, Hashable {
        public var bytes: [UInt8]

        public init(bytes: [UInt8]) { self.bytes = bytes }

        /// A value of a trivial type at `offset`, read unaligned; nil past the end.
        public func load<T: BitwiseCopyable>(fromByteOffset offset: Int = 0, as type: T.Type) -> T? {
            guard offset >= 0, offset <= bytes.count - MemoryLayout<T>.size else { return nil }
            return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
        }
    }

    /// The records as an async sequence, one copy each. Waiting for the next one suspends
    /// the task (the epoll_wait runs on SwiftBPF's poller thread, not in the cooperative
    /// pool); cancelling the task ends the sequence. Records stay in the kernel's buffer
    /// until asked for, so a slow consumer makes programs see a full buffer rather than
    /// this process's memory grow.
    public var records: EventRecords<RingBuffer> { EventRecords(source: self) }

    /// One record copied out, or nil. Out of line: a closure inlined into the iterator's
    /// typed-throws `next` can have its error clobbered by Swift 6.3's optimizer.
    @inline(never)
    public func nextRecord() -> Record? {
        var record: Record?
        _ = consume(limit: 1) { record = Record(bytes: Array($0)) }
        return record
    }

    public var isClosedForReading: Bool { closed }
    public var readinessDescriptor: Int32 { epoll.rawValue }
}
#endif
