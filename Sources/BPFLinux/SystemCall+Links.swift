#if os(Linux)
import CBPFLinux
import Glibc

extension SystemCall {
    /// BPF_LINK_CREATE. `target` is the fd or interface index to attach to (per attach type);
    /// `details` fills the attach type's part of `link_create` after `flags` (target BTF id,
    /// iterator info, perf event cookie, kprobe-multi arrays, tcx relative fd, netfilter
    /// hook...), laid out as the UAPI struct; pointers inside must stay valid for the call.
    public static func createLink(program: Int32, target: UInt32, attachType: UInt32, flags: UInt32 = 0,
                                  details: [UInt8] = []) throws(BPFError) -> FileDescriptor {
        var attr = zeroedAttributes()
        attr.link_create.prog_fd = UInt32(bitPattern: program)
        attr.link_create.target_fd = target
        attr.link_create.attach_type = attachType
        attr.link_create.flags = flags
        let room = MemoryLayout<bpf_attr>.size - detailsOffset
        guard details.count <= room else {
            throw BPFError(operation: "BPF_LINK_CREATE", errno: E2BIG,
                           detail: "\(details.count) bytes of link details; bpf_attr has room for \(room)")
        }
        copy(details, into: &attr, at: detailsOffset)
        return FileDescriptor(owning: try bpf(BPF_LINK_CREATE, &attr, name: "BPF_LINK_CREATE"))
    }

    /// Writes `bytes` into `attr` from `offset` (not inlined: see `objectName`).
    @inline(never)
    static func copy(_ bytes: [UInt8], into attr: inout bpf_attr, at offset: Int) {
        withUnsafeMutableBytes(of: &attr) { target in
            for (index, byte) in bytes.enumerated() where offset + index < target.count { target[offset + index] = byte }
        }
    }

    /// Where `link_create`'s per-type union starts: after prog_fd, target, attach_type, flags.
    static let detailsOffset = 16

    /// BPF_LINK_UPDATE: swaps the link's program; with `expectedProgram`
    /// (BPF_F_REPLACE in `flags`), only if that is the one attached now.
    public static func updateLink(_ link: Int32, program: Int32, expectedProgram: Int32? = nil,
                                  flags: UInt32 = 0) throws(BPFError) {
        var attr = zeroedAttributes()
        attr.link_update.link_fd = UInt32(bitPattern: link)
        attr.link_update.new_prog_fd = UInt32(bitPattern: program)
        attr.link_update.flags = flags
        if let expectedProgram { attr.link_update.old_prog_fd = UInt32(bitPattern: expectedProgram) }
        try bpf(BPF_LINK_UPDATE, &attr, name: "BPF_LINK_UPDATE")
    }

    /// BPF_LINK_DETACH: detaches the link's program; the descriptor stays open, defunct.
    public static func detachLink(_ link: Int32) throws(BPFError) {
        var attr = zeroedAttributes()
        attr.link_detach.link_fd = UInt32(bitPattern: link)
        try bpf(BPF_LINK_DETACH, &attr, name: "BPF_LINK_DETACH")
    }
}
#endif
