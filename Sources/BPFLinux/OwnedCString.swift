#if os(Linux)
import Glibc

/// A NUL-terminated copy of a string, for attributes that carry a pointer to a name or
/// path (raw tracepoint names, probe targets). It spares typed-throws callers the
/// `withCString` closure, whose error Swift 6.3's optimizer can clobber.
struct OwnedCString: ~Copyable {
    let pointer: UnsafeMutablePointer<CChar>

    init(_ text: String, for operation: String) throws(BPFError) {
        guard let copy = strdup(text) else { throw BPFError(operation: operation, errno: ENOMEM, subject: text) }
        pointer = copy
    }

    /// The pointer as bpf_attr and perf_event_attr fields take it.
    var address: UInt64 { UInt64(UInt(bitPattern: pointer)) }

    deinit { free(pointer) }
}
#endif
