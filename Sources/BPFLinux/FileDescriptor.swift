#if os(Linux)
import Glibc
import Synchronization

/// An owned kernel file descriptor (map, program, link, BTF, perf event, epoll): closed
/// exactly once, by `close()` or when the last reference goes away.
public final class FileDescriptor: Sendable, CustomStringConvertible {
    private let value: Atomic<Int32>

    /// Takes ownership of `rawValue`.
    public init(owning rawValue: Int32) {
        value = Atomic(rawValue)
    }

    /// The descriptor number, or -1 once closed.
    public var rawValue: Int32 { value.load(ordering: .acquiring) }

    public var isOpen: Bool { rawValue >= 0 }

    /// Closes the descriptor; later calls do nothing.
    public func close() {
        let old = value.exchange(-1, ordering: .acquiringAndReleasing)
        if old >= 0 { _ = Glibc.close(old) }
    }

    /// A new descriptor for the same kernel object (dup with close-on-exec).
    public func duplicate() throws(BPFError) -> FileDescriptor {
        let copy = fcntl(rawValue, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw BPFError(operation: "fcntl(F_DUPFD_CLOEXEC)", errno: errno) }
        return FileDescriptor(owning: copy)
    }

    deinit { close() }

    public var description: String { "fd \(rawValue)" }
}
#endif
