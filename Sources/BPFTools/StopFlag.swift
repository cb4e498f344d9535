#if os(Linux)
import Synchronization

/// Tells a running tool to stop: set from a signal handler (Ctrl-C), another thread or a
/// test; the tool notices within one poll interval, drains what is left and returns.
public final class StopFlag: Sendable {
    private let requested = Atomic<Bool>(false)

    public init() {}

    /// Async-signal-safe: a single atomic store.
    public func request() { requested.store(true, ordering: .relaxed) }

    public var isRequested: Bool { requested.load(ordering: .relaxed) }
}
#endif
