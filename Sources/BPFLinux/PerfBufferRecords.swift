#if os(Linux)
import Glibc

extension PerfBuffer {
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
    public var records: Records { Records(buffer: self) }

    /// One record copied out, or nil. Out of line: a closure inlined into the iterator's
    /// typed-throws `next` can have its error clobbered by Swift 6.3's optimizer.
    @inline(never)
    func nextRecord() -> Record? {
        var record: Record?
        _ = consume(limit: 1) { event in
            switch event {
            case .sample(let cpu, let bytes): record = .sample(cpu: cpu, bytes: Array(bytes))
            case .lost(let cpu, let count): record = .lost(cpu: cpu, count: count)
            }
        }
        return record
    }

    public struct Records: AsyncSequence {
        public typealias Element = Record
        public typealias Failure = BPFError
        let buffer: PerfBuffer

        public func makeAsyncIterator() -> Iterator { Iterator(buffer: buffer) }

        public struct Iterator: AsyncIteratorProtocol {
            public typealias Element = Record
            public typealias Failure = BPFError
            let buffer: PerfBuffer

            public mutating func next(isolation actor: isolated (any Actor)? = #isolation) async throws(BPFError) -> Record? {
                while !Task.isCancelled {
                    if buffer.closed { return nil }
                    if let record = buffer.nextRecord() { return record }
                    guard try await EventPoller.shared.waitReadable(buffer.epoll.rawValue) else { return nil }
                }
                return nil
            }

            public mutating func next() async throws(BPFError) -> Record? {
                try await next(isolation: nil)
            }
        }
    }
}
#endif
