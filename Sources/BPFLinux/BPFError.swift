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
    /// SwiftBPF's own account of the problem, when it knows better than errno (a key of the
    /// wrong size, a path outside bpffs); shown in place of the generic likely cause.
    public var detail: String?
    /// The instruction the verifier stopped at, located from its log.
    public var failingInstruction: FailingInstruction?

    public init(operation: String, errno: Int32, subject: String? = nil, log: String? = nil, detail: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.subject = subject
        self.log = log
        self.detail = detail
    }

    /// Where a program load failed: the verifier's last instruction, its disassembly and,
    /// when the program came with BTF line info, the source line it was compiled from.
    public struct FailingInstruction: Sendable, Hashable, CustomStringConvertible {
        /// Slot index in the loaded program.
        public var index: Int
        /// The instruction as SwiftBPF prints it (kernel syntax), when it decodes.
        public var disassembly: String?
        /// "file.c:42: source text", when line info covers the instruction.
        public var sourceLine: String?

        public init(index: Int, disassembly: String? = nil, sourceLine: String? = nil) {
            self.index = index
            self.disassembly = disassembly
            self.sourceLine = sourceLine
        }

        public var description: String {
            var text = "instruction \(index)"
            if let disassembly { text += ": \(disassembly)" }
            if let sourceLine { text += "\n  source: \(sourceLine)" }
            return text
        }
    }

    /// strerror's text for `errno`.
    public var systemMessage: String { String(cString: strerror(errno)) }

    /// The usual reason for this errno from this kind of call.
    public var likelyCause: String? {
        switch errno {
        case EPERM where operation.contains("MAP_UPDATE") || operation.contains("MAP_DELETE"):
            return "the map is frozen or read-only to user space (BPF_F_RDONLY), or the process lacks privilege"
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
        case EINVAL where operation.contains("BTF_LOAD"):
            return "the kernel refused the BTF (see the log)"
        case EINVAL where operation.contains("TEST_RUN"):
            return "the kernel refused the test input: data or context too short or malformed for this program type (packets need at least 14 bytes), or a field this type does not take"
        case EINVAL where operation.contains("OBJ_PIN") || operation.contains("OBJ_GET"):
            return "the path is not in a bpf filesystem (mount -t bpf bpf /sys/fs/bpf), or the flags are wrong"
        case EINVAL:
            return "the kernel refused an argument: an unsupported type, flag or size for this kernel"
        case ENOENT where operation.contains("LOOKUP") || operation.contains("DELETE") || operation.contains("NEXT_KEY"):
            return "no such key"
        case ENOENT where operation.contains("OBJ_GET"):
            return "nothing is pinned at this path"
        case ENOENT where operation.contains("GET_FD_BY_ID") || operation.contains("GET_NEXT_ID"):
            return "no object with this id (it may have been freed)"
        case ENOENT:
            return "no such object"
        case EEXIST where operation.contains("OBJ_PIN"):
            return "something is already pinned at this path"
        case EEXIST:
            return "the key already exists (BPF_NOEXIST) or the object is already attached"
        case EBUSY where operation.contains("MAP_FREEZE"):
            return "the map is mapped writable (mmap) or already frozen"
        case EBUSY:
            return "the object is in use (already attached or pinned)"
        case ENOSPC where operation.contains("PROG_LOAD") || operation.contains("BTF_LOAD"):
            return "the verifier log did not fit in its buffer"
        case ENOSPC where operation.contains("BATCH"):
            return "the batch is smaller than one hash bucket: retry with a larger count"
        case ENOSPC:
            return "the map is full"
        case ENOTSUPP where operation.contains("TEST_RUN"), EOPNOTSUPP where operation.contains("TEST_RUN"):
            return "this program type cannot be test-run (BPF_PROG_TEST_RUN)"
        case ENOTSUPP where operation.contains("MAP"), EOPNOTSUPP where operation.contains("MAP"):
            return "this map type does not support the operation (e.g. lookup on a ring buffer, batch on a queue)"
        case EOPNOTSUPP, ENOTSUPP:
            return "this kernel does not support the operation for this object type"
        case EFAULT:
            return "the kernel could not read or write a buffer in the request (a size that does not match the buffer)"
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
        if let detail { text += "; \(detail)" } else if let likelyCause { text += "; \(likelyCause)" }
        if let failingInstruction { text += "\nfailed at \(failingInstruction)" }
        if let log, !log.isEmpty { text += "\nverifier log:\n" + log }
        return text
    }
}

/// ENOTSUPP is the kernel's internal 524, which some bpf(2) paths return to user space.
let ENOTSUPP: Int32 = 524
#endif
