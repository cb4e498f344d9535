import Synchronization

/// The packets of a live capture, in arrival order, as an `AsyncSequence`; it ends after
/// `LiveCapture.close()` and throws if the socket fails.
///
/// The ring thread hands packets over while fewer than `readerBuffer` bytes wait for the
/// reader; past that it waits, so a slow reader leaves the kernel's ring to fill, and the
/// kernel counts what it then drops (`droppedByKernel`), as in libpcap, instead of packets
/// vanishing in between or memory growing without bound.
public struct LivePackets: AsyncSequence, Sendable {
    public typealias Element = Packet

    /// The packets of each ring block, handed over together.
    let stream: AsyncThrowingStream<[Packet], any Error>
    let backlog: Backlog

    /// Bytes of packets handed over and not yet taken by the reader.
    final class Backlog: Sendable {
        let bytes = Atomic<Int>(0)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<[Packet], any Error>.AsyncIterator
        let backlog: Backlog
        /// The current block's packets, and the next one to give.
        var batch: [Packet] = []
        var position = 0

        public mutating func next() async throws -> Packet? {
            while position == batch.count {
                guard let next = try await base.next() else { return nil }
                batch = next
                position = 0
            }
            let packet = batch[position]
            position += 1
            backlog.bytes.subtract(packet.data.count, ordering: .relaxed)
            return packet
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), backlog: backlog)
    }
}
