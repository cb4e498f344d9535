#if os(Linux)
import BPFObject
import Glibc

extension Link {
    /// Attaches a `socket_filter` program to socket `socket` (SO_ATTACH_BPF): it sees each
    /// packet the socket would receive and returns how many bytes to keep (0 drops it).
    /// The link keeps a duplicate of the socket, so closing it detaches (SO_DETACH_BPF) from
    /// that socket and no other, even if the caller has closed its own descriptor.
    public static func socketFilter(socket: Int32, program: some AttachableProgram) throws(BPFError) -> Link {
        let hook = "socket filter on fd \(socket)"
        let duplicate = fcntl(socket, F_DUPFD_CLOEXEC, 0)
        guard duplicate >= 0 else {
            throw BPFError(operation: "fcntl(F_DUPFD_CLOEXEC)", errno: errno, subject: hook, detail: "fd \(socket) is not open")
        }
        let owned = FileDescriptor(owning: duplicate)
        let programFD = program.programDescriptor
        var value = programFD.rawValue
        guard setsockopt(duplicate, SOL_SOCKET, SO_ATTACH_BPF, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            let error = BPFError(operation: "setsockopt(SO_ATTACH_BPF)", errno: errno, subject: hook)
            owned.close()
            throw AttachFailure.explain(error, hook: hook, program: programFD, expected: [.socketFilter]) { code in
                code == ENOTSOCK ? "fd \(socket) is not a socket" : nil
            }
        }
        return Link(hook: hook, attachments: [.socket(owned)])
    }
}
#endif
