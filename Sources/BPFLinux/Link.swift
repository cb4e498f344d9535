#if os(Linux)
import BPFObject
import CBPFLinux
import Glibc
import Synchronization

/// A program attached to a hook. The attachment lasts as long as the `Link`: `close()`, or
/// the last reference going away, detaches it — unless it was pinned, which keeps a
/// bpf_link alive in bpffs until the pin is removed.
///
/// Made by the attach functions in the `Link` extensions (`tracepoint`, `uprobe`, `xdp`,
/// `cgroup`, ...). Most hooks attach through a kernel bpf_link, which can be pinned and can
/// have its program replaced atomically (`update(program:)`); perf-event attachments made
/// with `PERF_EVENT_IOC_SET_BPF` and socket filters are detached by SwiftBPF itself.
public final class Link: Sendable, CustomStringConvertible {
    /// What the link holds on to.
    enum Attachment: Sendable {
        /// A kernel bpf_link: closing its last descriptor detaches.
        case link(FileDescriptor)
        /// A perf event (tracepoint, kprobe, uprobe, sampling event) with the program set by
        /// ioctl, or with a bpf_link on it.
        case perfEvent(FileDescriptor, link: FileDescriptor?)
        /// Our duplicate of a socket with a program attached by SO_ATTACH_BPF.
        case socket(FileDescriptor)
    }

    /// The hook, as error messages and `description` name it: "tracepoint syscalls/sys_enter_openat".
    public let hook: String
    let attachments: [Attachment]
    private let closed = Atomic<Bool>(false)

    init(hook: String, attachments: [Attachment]) {
        self.hook = hook
        self.attachments = attachments
    }

    public var isOpen: Bool { !closed.load(ordering: .acquiring) }

    /// Detaches the program (a pinned bpf_link stays until its pin is removed). Later calls
    /// do nothing.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for attachment in attachments {
            switch attachment {
            case .link(let fd):
                fd.close()
            case .perfEvent(let event, let link):
                link?.close()
                // Stop the event before the program goes, so no sample runs half-detached.
                _ = swiftbpf_ioctl(event.rawValue, SWIFTBPF_PERF_EVENT_IOC_DISABLE, 0)
                event.close()
            case .socket(let socket):
                var none: Int32 = 0
                _ = setsockopt(socket.rawValue, SOL_SOCKET, SO_DETACH_BPF, &none, socklen_t(MemoryLayout<Int32>.size))
                socket.close()
            }
        }
    }

    deinit { close() }

    /// The bpf_link's descriptors, one per attachment that has one (perf sampling on every
    /// CPU makes one per CPU).
    public var linkDescriptors: [FileDescriptor] {
        var links: [FileDescriptor] = []
        for attachment in attachments {
            switch attachment {
            case .link(let fd): links.append(fd)
            case .perfEvent(_, let link): if let link { links.append(link) }
            case .socket: break
            }
        }
        return links
    }

    /// The kernel's account of each bpf_link behind this link (type, id, program id), as
    /// bpftool link lists them.
    public func linkInfo() throws(BPFError) -> [LinkInfo] {
        var infos: [LinkInfo] = []
        for fd in linkDescriptors {
            do { infos.append(try SystemCall.linkInfo(fd: fd.rawValue)) } catch {
                var error = error
                error.subject = hook
                throw error
            }
        }
        return infos
    }

    /// The single bpf_link, or an error saying why this link cannot be pinned or updated.
    private func soleLink(for operation: String) throws(BPFError) -> FileDescriptor {
        guard isOpen else {
            throw BPFError(operation: operation, errno: EBADF, subject: hook, detail: "the link is closed")
        }
        let links = linkDescriptors
        guard links.count == attachments.count, links.count == 1, let link = links.first else {
            let why = links.isEmpty
                ? "it is not a kernel bpf_link (a perf event attached by ioctl, or a socket filter); attach with mode .link to get one"
                : "it holds \(links.count) bpf_links (one per CPU)"
            throw BPFError(operation: operation, errno: EOPNOTSUPP, subject: hook, detail: why)
        }
        return link
    }

    /// Pins the bpf_link at `path` in a bpf filesystem, so that it stays attached after this
    /// process closes it; remove the file (unlink) to detach.
    public func pin(at path: String) throws(BPFError) {
        let link = try soleLink(for: "BPF_OBJ_PIN")
        do { try SystemCall.pin(fd: link.rawValue, at: path) } catch {
            var error = error
            error.subject = "\(hook) at \(path)"
            throw error
        }
    }

    /// A link pinned at `path` (by this or another process). Closing it does not detach:
    /// the pin still holds the link until it is removed.
    public static func pinned(at path: String) throws(BPFError) -> Link {
        let fd = try SystemCall.openPinned(at: path)
        let info = try SystemCall.linkInfo(fd: fd.rawValue)
        return Link(hook: "pinned link \(path) (id \(info.id))", attachments: [.link(fd)])
    }

    /// Replaces the attached program with `program` in one step (BPF_LINK_UPDATE); with
    /// `replacing`, only if that is still the attached program. XDP, tcx, cgroup and netns
    /// links support it; tracepoint and perf-event links do not.
    public func update(program: some AttachableProgram, replacing old: (any AttachableProgram)? = nil) throws(BPFError) {
        let link = try soleLink(for: "BPF_LINK_UPDATE")
        do {
            try SystemCall.updateLink(link.rawValue, program: program.programDescriptor.rawValue,
                                      expectedProgram: old?.programDescriptor.rawValue,
                                      flags: old == nil ? 0 : UInt32(BPF_F_REPLACE))
        } catch {
            var explained = error
            explained.subject = hook
            switch error.errno {
            case EOPNOTSUPP, ENOTSUPP: explained.detail = "this kind of link cannot change its program; close it and attach anew"
            case EPERM where old != nil: explained.detail = "the attached program is no longer the one given as `replacing`"
            case EINVAL: explained.detail = "the new program's type or expected attach type differs from the attached one's"
            default: break
            }
            throw explained
        }
    }

    public var description: String { "link: \(hook)\(isOpen ? "" : " (closed)")" }
}

/// A loaded program that can be attached: anything that lends its program descriptor for
/// the duration of an attach call.
public protocol AttachableProgram {
    var programDescriptor: FileDescriptor { get }
}

extension FileDescriptor: AttachableProgram {
    /// The descriptor itself, taken to be a program's.
    public var programDescriptor: FileDescriptor { self }
}

extension KernelProgram: AttachableProgram {
    public var programDescriptor: FileDescriptor { fileDescriptor }
}

/// How a perf event (tracepoint, kprobe, uprobe, sampling event) gets its program.
public enum PerfAttachMode: Sendable, Hashable {
    /// A bpf_link where the kernel has them (5.15 and later), else the ioctl.
    case automatic
    /// BPF_LINK_CREATE with BPF_PERF_EVENT: pinnable, and detached when the link goes.
    case link
    /// PERF_EVENT_IOC_SET_BPF, which every kernel with BPF has.
    case ioctl
}
#endif
