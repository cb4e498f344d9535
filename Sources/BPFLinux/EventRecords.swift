#if os(Linux)
/// An event buffer an async sequence can drain: it copies out one record at a time and has
/// an epoll descriptor that turns readable when more arrive. `RingBuffer` and `PerfBuffer`.
public protocol PolledRecordSource: AnyObject {
    associatedtype Record: Sendable
    /// The next record copied out, or nil when none is waiting.
    func nextRecord() -> Record?
    var isClosedForReading: Bool { get }
    var readinessDescriptor: Int32 { get }
}

/// The records of an event buffer as an `AsyncSequence`. Waiting suspends the task — the
/// epoll_wait runs on SwiftBPF's poller thread, never in the cooperative pool — and
/// cancelling the task ends the sequence.
public struct EventRecords<Source: PolledRecordSource>: AsyncSequence {
    public typealias Element = Source.Record
    public typealias Failure = BPFError
    let source: Source

    public func makeAsyncIterator() -> Iterator { Iterator(source: source) }

    public struct Iterator: AsyncIteratorProtocol {
        public typealias Element = Source.Record
        public typealias Failure = BPFError
        let source: Source

        public mutating func next(isolation actor: isolated (any Actor)? = #isolation) async throws(BPFError) -> Element? {
            while !Task.isCancelled {
                if source.isClosedForReading { return nil }
                if let record = source.nextRecord() { return record }
                guard try await EventPoller.shared.waitReadable(source.readinessDescriptor) else { return nil }
            }
            return nil
        }

        public mutating func next() async throws(BPFError) -> Element? {
            try await next(isolation: nil)
        }
    }
}
#endif
