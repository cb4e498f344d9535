#if os(Linux)
import BPFObject
import CBPFLinux
import Glibc

extension Link {
    /// Attaches a cgroup program to the cgroup v2 folder at `path` (e.g.
    /// "/sys/fs/cgroup/my.slice") for `attachType`: `.cgroupInetIngress` / `.cgroupInetEgress`
    /// (cgroup_skb), `.cgroupInetSocketCreate` (cgroup_sock), `.cgroupInet4Connect` and the
    /// other sock_addr hooks, `.cgroupSocketOperations`, `.cgroupDevice`, `.cgroupSysctl`,
    /// `.cgroupGetSocketOption` ... It applies to the cgroup's processes and its descendants.
    public static func cgroup(_ path: String, attachType: AttachType, program: some AttachableProgram) throws(BPFError) -> Link {
        let hook = "cgroup \(path) (\(attachType.kernelName))"
        let cgroup = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard cgroup >= 0 else {
            let code = errno
            throw BPFError(operation: "open", errno: code, subject: hook,
                           detail: code == ENOENT || code == ENOTDIR ? "no cgroup folder at \(path)" : nil)
        }
        defer { Glibc.close(cgroup) }
        var filesystem = statfs()
        let isVersion2 = fstatfs(cgroup, &filesystem) == 0 && UInt(bitPattern: Int(filesystem.f_type)) == 0x6367_7270
        let fd = try createLink(program: program.programDescriptor, target: UInt32(bitPattern: cgroup), attachType: attachType,
                                flags: 0, hook: hook, expected: Self.cgroupProgramTypes(for: attachType)) { code in
            if !isVersion2 { return "\(path) is not in a cgroup v2 filesystem (BPF programs attach to cgroup v2 only)" }
            switch code {
            case EINVAL: return "the program must be loaded with expected attach type \(attachType.kernelName) for this hook"
            case EBADF: return "\(path) is not a cgroup folder"
            default: return nil
            }
        }
        return Link(hook: hook, attachments: [.link(fd)])
    }

    /// Which program types each cgroup attach type takes (for error messages).
    static func cgroupProgramTypes(for attachType: AttachType) -> [ProgramType] {
        switch attachType {
        case .cgroupInetIngress, .cgroupInetEgress: [.cgroupSocketBuffer]
        case .cgroupInetSocketCreate, .cgroupInetSocketRelease, .cgroupInet4PostBind, .cgroupInet6PostBind: [.cgroupSocket]
        case .cgroupSocketOperations: [.socketOperations]
        case .cgroupDevice: [.cgroupDevice]
        case .cgroupSysctl: [.cgroupSysctl]
        case .cgroupGetSocketOption, .cgroupSetSocketOption: [.cgroupSocketOption]
        case .cgroupInet4Bind, .cgroupInet6Bind, .cgroupInet4Connect, .cgroupInet6Connect, .cgroupUDP4SendMessage,
             .cgroupUDP6SendMessage, .cgroupUDP4ReceiveMessage, .cgroupUDP6ReceiveMessage, .cgroupInet4GetPeerName,
             .cgroupInet6GetPeerName, .cgroupInet4GetSocketName, .cgroupInet6GetSocketName, .cgroupUnixConnect,
             .cgroupUnixSendMessage, .cgroupUnixReceiveMessage, .cgroupUnixGetPeerName, .cgroupUnixGetSocketName:
            [.cgroupSocketAddress]
        default: []
        }
    }
}
#endif
