import BPFObject

/// The Linux errno numbers map operations give, whatever the host's own numbering: the
/// kernel's semantics are the reference, so `MapError.errno` and the negative results of the
/// `program…` members use Linux's numbers on every platform.
public enum LinuxErrno {
    public static let permission: Int32 = 1        // EPERM
    public static let noEntry: Int32 = 2           // ENOENT
    public static let tooBig: Int32 = 7            // E2BIG
    public static let badDescriptor: Int32 = 9     // EBADF
    public static let tryAgain: Int32 = 11         // EAGAIN
    public static let noMemory: Int32 = 12         // ENOMEM
    public static let accessDenied: Int32 = 13     // EACCES
    public static let fault: Int32 = 14            // EFAULT
    public static let busy: Int32 = 16             // EBUSY
    public static let exists: Int32 = 17           // EEXIST
    public static let invalid: Int32 = 22          // EINVAL
    public static let noSpace: Int32 = 28          // ENOSPC
    public static let operationNotSupported: Int32 = 95  // EOPNOTSUPP
    /// The kernel-internal ENOTSUPP that bpf(2) still returns for some map operations.
    public static let notSupported: Int32 = 524    // ENOTSUPP

    /// What an errno means for an operation on a map of `type`, in words.
    static func explanation(_ errno: Int32, for type: MapType) -> String {
        switch errno {
        case noEntry: return "no such element"
        case exists: return "the element exists (BPF_NOEXIST)"
        case tooBig where type == .queue || type == .stack: return "the map is full (push with BPF_EXIST to drop the oldest value)"
        case tooBig where type == .array || type == .perCPUArray || type == .programArray || type == .arrayOfMaps:
            return "the index is past the end of the array"
        case tooBig: return "the map is full"
        case noSpace: return "the trie is full"
        case invalid: return "invalid argument (flags, key or an operation this map type does not have)"
        case noMemory: return "no element could be freed for the new one"
        case badDescriptor: return "no map with that id"
        case notSupported, operationNotSupported: return "\(type.kernelName) maps do not have this operation"
        default: return "errno \(errno)"
        }
    }
}
