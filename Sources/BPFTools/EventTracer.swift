#if os(Linux)
import BPFLinux

/// A tool at work: its object loaded and attached, its ring buffer read and each record
/// turned into an `Event`, and the count of events the kernel had no room for. Everything is
/// released by `close()` or on deinit.
public final class EventTracer<Event: Sendable> {
    public let tool: String
    private let ring: RingBuffer
    private let lost: BPFSkeletonGlobal<UInt64>
    private let attached: AttachedObject
    /// Turns a record into an event; nil drops it (a filter done in user space).
    private let decode: (UnsafeRawBufferPointer) throws(ToolError) -> Event?
    /// Events handed out so far.
    public private(set) var eventCount = 0

    init(tool: String, object: ObjectCollection, attach: () throws(BPFError) -> [Link], events: Map,
         lost: BPFSkeletonGlobal<UInt64>, decode: @escaping (UnsafeRawBufferPointer) throws(ToolError) -> Event?) throws(ToolError) {
        self.tool = tool
        self.lost = lost
        self.decode = decode
        do {
            ring = try RingBuffer(events)
        } catch {
            object.close()
            throw ToolError(tool: tool, error)
        }
        do {
            attached = try AttachedObject(tool: tool, object: object, attach: attach)
        } catch {
            ring.close()
            throw error
        }
    }

    /// Hands every event that is ready to `handler`; if none is, waits up to `timeout` for
    /// one. Returns the number of records read (dropped ones included).
    @discardableResult
    public func poll(timeout: Duration, _ handler: (Event) -> Void) throws(ToolError) -> Int {
        var failure: ToolError?
        var handed = 0
        let count = readRecords(ring, timeout: timeout) { bytes in
            guard failure == nil else { return }
            do throws(ToolError) {
                if let event = try decode(bytes) {
                    handed += 1
                    handler(event)
                }
            } catch {
                failure = error
            }
        }
        eventCount += handed
        if let failure { throw failure }
        return count
    }

    /// Polls until `stop` is requested or `duration` has passed, then reads what is left.
    public func run(until stop: StopFlag, for duration: Duration? = nil, _ handler: (Event) -> Void) throws(ToolError) {
        let clock = ContinuousClock()
        let deadline = duration.map { clock.now.advanced(by: $0) }
        let interval = Duration.milliseconds(100)
        while !stop.isRequested {
            var timeout = interval
            if let deadline {
                let left = clock.now.duration(to: deadline)
                if left <= .zero { break }
                timeout = min(interval, left)
            }
            try poll(timeout: timeout, handler)
        }
        try poll(timeout: .zero, handler)
    }

    /// Events the programs could not send because the ring buffer was full.
    public func lostEvents() throws(ToolError) -> UInt64 {
        do { return try lost.get() } catch { throw ToolError(tool: tool, error) }
    }

    /// How often the programs ran and how often the kernel skipped them.
    public func runCounts() throws(ToolError) -> ProgramRunCounts {
        do { return try attached.runCounts() } catch { throw ToolError(tool: tool, error) }
    }

    /// Detaches the programs and releases the object.
    public func close() {
        attached.close()
        ring.close()
    }

    deinit { close() }
}

/// Records handed over per `poll` at most: a producer as fast as the reader must not keep
/// one call from returning (and the caller from checking its stop flag).
let eventBatch = 4096

private struct BatchFull: Error {}

/// The ring buffer's poll, stopped after `eventBatch` records (a record whose body throws
/// counts as consumed, and this one has been handled). Out of line: Swift 6.3 in release mode
/// can clobber a typed-throws caller's error across such closures when inlined.
@inline(never)
private func readRecords(_ ring: RingBuffer, timeout: Duration, _ body: (UnsafeRawBufferPointer) -> Void) -> Int {
    var count = 0
    do {
        _ = try ring.poll(timeout: timeout) { (record: UnsafeRawBufferPointer) throws(BatchFull) in
            body(record)
            count += 1
            if count >= eventBatch { throw BatchFull() }
        }
    } catch {}
    return count
}

/// Loads a skeleton, turning the kernel's refusal into the tool's explanation.
func loadSkeleton<Skeleton>(tool: String, _ load: () throws -> Skeleton) throws(ToolError) -> Skeleton {
    do {
        return try load()
    } catch let error as BPFError {
        throw ToolError(tool: tool, error)
    } catch {
        throw ToolError(tool: tool, message: "cannot read the tool's built-in object: \(error)")
    }
}
#endif
