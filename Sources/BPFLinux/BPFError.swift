#if os(Linux)
import Glibc

/// A system call that failed: which one, errno, and a sentence on the likely cause. For
/// program loads the kernel verifier's log is kept, since it is the real answer.
public struct BPFError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bpf(2) command or system call, e.g. "BPF_MAP_CREATE" or "perf_event_open".
    public var operation: String
    public var errno: Int32
    /// What the failing call was about (a map or program name), when known.
    public var subject: String?
    /// The verifier log of a failed program load.
    public var log: String?

    public init(operation: String, errno: Int32, subject: String? = nil, log: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.subject = subject
        self.log = log
    }

    /// strerror's text for `errno`.
    public var systemMessage: String { String(cString: strerror(errno)) }

    /// The usual reason for this errno from this kind of call.
    public var likelyCause: String? {
        switch errno {
        case EPERM:
            return "the process lacks privilege for bpf(2): run as root or grant CAP_BPF (and CAP_PERFMON / CAP_NET_ADMIN for tracing and networking programs)"
        case EACCES where operation.contains("PROG_LOAD"):
            return "the verifier rejected the program (see the log)"
        case EACCES:
            return "access denied: check permissions, or the object's read-only flags"
        case E2BIG:
            return "a size in the request is larger than the kernel accepts (key/value size, max_entries, program length or attribute size)"
        case ENOMEM:
            return "the kernel could not allocate memory: check RLIMIT_MEMLOCK on old kernels, or reduce max_entries"
        case EINVAL where operation.contains("PROG_LOAD"):
            return "the kernel refused the program's attributes or instructions (see the log)"
        case EINVAL:
            return "the kernel refused an argument: an unsupported type, flag or size for this kernel"
        case ENOENT where operation.contains("LOOKUP") || operation.contains("DELETE") || operation.contains("NEXT_KEY"):
            return "no such key"
        case ENOENT:
            return "no such object"
        case EEXIST:
            return "the key already exists (BPF_NOEXIST) or the object is already attached"
        case EBUSY:
            return "the object is in use (already attached or pinned)"
        case ENOSPC:
            return "the map is full"
        case EOPNOTSUPP, ENOTSUPP:
            return "this kernel does not support the operation for this object type"
        case EBADF:
            return "a file descriptor in the request is not open or is of the wrong kind"
        default:
            return nil
        }
    }

    public var description: String {
        var text = operation
        if let subject { text += " (\(subject))" }
        text += " failed: \(systemMessage) (errno \(errno))"
        if let likelyCause { text += "; \(likelyCause)" }
        if let log, !log.isEmpty { text += "\nverifier log:\n" + log }
        return text
    }
}

/// ENOTSUPP is the kernel's internal 524, which some bpf(2) paths return to user space.
let ENOTSUPP: Int32 = 524
#endif
