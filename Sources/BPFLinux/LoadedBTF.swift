#if os(Linux)
import BPFObject
import Glibc
import Synchronization

/// BTF loaded into the kernel (BPF_BTF_LOAD), owned through its file descriptor: what
/// programs need for function and line info and CO-RE, and maps for typed keys and values.
public final class LoadedBTF: Sendable {
    public let fileDescriptor: FileDescriptor
    /// The kernel's id for the BTF object.
    public let id: UInt32

    /// Loads a BTF blob as it is. On failure the error carries the kernel's BTF log.
    public init(bytes: [UInt8]) throws(BPFError) {
        fileDescriptor = try SystemCall.loadBTF(bytes)
        id = try SystemCall.btfInfo(fd: fileDescriptor.rawValue).id
    }

    /// Loads an object's `.BTF`, fixed up as libbpf does (DATASEC sizes and offsets).
    public convenience init(object: ObjectFile) throws(BPFError) {
        try self.init(bytes: ObjectBTFFixup.fixed(object))
    }

    public func close() { fileDescriptor.close() }
}

/// The running kernel's own BTF (/sys/kernel/btf/vmlinux), parsed once.
public enum KernelBTF {
    public static let path = "/sys/kernel/btf/vmlinux"

    private static let cache = Mutex<BTF?>(nil)

    /// The parsed vmlinux BTF.
    public static func vmlinux() throws(BPFError) -> BTF {
        if let btf = cache.withLock({ $0 }) { return btf }
        let bytes = try readWholeFile(path)
        let btf: BTF
        do { btf = try BTF(parsing: bytes) } catch {
            throw BPFError(operation: "parse \(path)", errno: EINVAL, detail: error.description)
        }
        cache.withLock { $0 = btf }
        return btf
    }

    /// The BTF id a tracing or LSM program attaches to, found as libbpf finds it: `tp_btf/x`
    /// is the typedef `btf_trace_x`, `lsm/x` the function `bpf_lsm_x`, `iter/x` the function
    /// `bpf_iter_x`, fentry/fexit/fmod_ret the function `x`.
    static func attachID(for spec: ProgramSpec, target: String) throws(BPFError) -> UInt32 {
        let btf = try vmlinux()
        let (name, kind): (String, BTFKind) = switch spec.expectedAttachType {
        case .traceRawTracepoint?: ("btf_trace_" + target, .typedef)
        case .lsmMAC?, .lsmCgroup?: ("bpf_lsm_" + target, .function)
        case .traceIterator?: ("bpf_iter_" + target, .function)
        default: (target, .function)
        }
        guard let id = btf.ids(named: name, kind: kind).first else {
            throw BPFError(operation: "BPF_PROG_LOAD", errno: ESRCH, subject: spec.name,
                           detail: "the kernel's BTF has no \(kind.name) '\(name)' to attach to")
        }
        return id
    }
}
#endif
