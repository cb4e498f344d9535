#if os(Linux)
import BPFInstructions
import BPFObject
import CBPFLinux
import Glibc

extension SystemCall {
    // MARK: Ids

    /// BPF_{PROG,MAP,LINK,BTF}_GET_NEXT_ID: the next id after `id` (0 for the first), or nil
    /// at the end.
    public static func nextID(of kind: KernelObjectKind, after id: UInt32) throws(BPFError) -> UInt32? {
        // Ids stay below INT_MAX; the kernel refuses a start at or past it.
        guard id < UInt32(Int32.max) else { return nil }
        var attr = zeroedAttributes()
        attr.start_id = id
        let (command, name): (bpf_cmd, String) = switch kind {
        case .program: (BPF_PROG_GET_NEXT_ID, "BPF_PROG_GET_NEXT_ID")
        case .map: (BPF_MAP_GET_NEXT_ID, "BPF_MAP_GET_NEXT_ID")
        case .link: (BPF_LINK_GET_NEXT_ID, "BPF_LINK_GET_NEXT_ID")
        case .btf: (BPF_BTF_GET_NEXT_ID, "BPF_BTF_GET_NEXT_ID")
        }
        do {
            try bpf(command, &attr, name: name)
            return attr.next_id
        } catch where error.errno == ENOENT {
            return nil
        }
    }

    /// Every id of `kind` the kernel has now, in order.
    public static func ids(of kind: KernelObjectKind) throws(BPFError) -> [UInt32] {
        var ids: [UInt32] = []
        var id: UInt32 = 0
        while let next = try nextID(of: kind, after: id), next > id {
            ids.append(next)
            id = next
        }
        return ids
    }

    /// BPF_{PROG,MAP,LINK,BTF}_GET_FD_BY_ID. `flags` (BPF_F_RDONLY, BPF_F_WRONLY) apply to maps.
    public static func fileDescriptor(of kind: KernelObjectKind, id: UInt32, flags: UInt32 = 0) throws(BPFError) -> FileDescriptor {
        var attr = zeroedAttributes()
        attr.start_id = id
        attr.open_flags = flags
        let (command, name): (bpf_cmd, String) = switch kind {
        case .program: (BPF_PROG_GET_FD_BY_ID, "BPF_PROG_GET_FD_BY_ID")
        case .map: (BPF_MAP_GET_FD_BY_ID, "BPF_MAP_GET_FD_BY_ID")
        case .link: (BPF_LINK_GET_FD_BY_ID, "BPF_LINK_GET_FD_BY_ID")
        case .btf: (BPF_BTF_GET_FD_BY_ID, "BPF_BTF_GET_FD_BY_ID")
        }
        return FileDescriptor(owning: try bpf(command, &attr, name: name, subject: "\(kind.rawValue) id \(id)"))
    }

    // MARK: Information

    /// What kind of bpf object `fd` refers to, from the anonymous inode's name the kernel
    /// gave it ("bpf-map", "bpf-prog", "bpf_link", "btf"); nil for anything else.
    public static func objectKind(fd: Int32) -> KernelObjectKind? {
        switch inodeName(fd: fd) {
        case "anon_inode:bpf-map": .map
        case "anon_inode:bpf-prog": .program
        case "anon_inode:bpf_link": .link
        case "anon_inode:btf": .btf
        default: nil
        }
    }

    /// What /proc/self/fd/N points at; nil when it cannot be read (no /proc).
    static func inodeName(fd: Int32) -> String? {
        var target = [CChar](repeating: 0, count: 64)
        let count = target.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return -1 }
            return readlink("/proc/self/fd/\(fd)", base, buffer.count - 1)
        }
        guard count > 0 else { return nil }
        return String(decoding: target[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Throws unless `fd` is a bpf object of `kind` (when /proc can tell).
    static func expect(_ kind: KernelObjectKind, fd: Int32) throws(BPFError) {
        guard let name = inodeName(fd: fd) else { return }
        let found = objectKind(fd: fd)
        guard found == kind else {
            throw BPFError(operation: "BPF_OBJ_GET_INFO_BY_FD", errno: EINVAL,
                           detail: "fd \(fd) is \(found.map { "a \($0.rawValue)" } ?? name), not a \(kind.rawValue)")
        }
    }

    /// BPF_OBJ_GET_INFO_BY_FD into `buffer` (zeroed by the caller, with any pointers it wants
    /// filled in); returns the length the kernel wrote.
    public static func objectInfo(fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(BPFError) -> Int {
        var attr = zeroedAttributes()
        attr.info.bpf_fd = UInt32(bitPattern: fd)
        attr.info.info_len = UInt32(truncatingIfNeeded: buffer.count)
        attr.info.info = address(buffer.baseAddress)
        try bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, name: "BPF_OBJ_GET_INFO_BY_FD")
        return Int(attr.info.info_len)
    }

    static func info<Info>(_ value: inout Info, fd: Int32) throws(BPFError) {
        _ = try withUnsafeMutableBytes(of: &value) { bytes throws(BPFError) in try objectInfo(fd: fd, into: bytes) }
    }

    /// A program's information, with its map ids.
    public static func programInfo(fd: Int32) throws(BPFError) -> ProgramInfo {
        var info = bpf_prog_info()
        try self.info(&info, fd: fd)
        var mapIDs = [UInt32](repeating: 0, count: Int(info.nr_map_ids))
        if !mapIDs.isEmpty {
            let wanted = info.nr_map_ids
            try mapIDs.withMutableBytes { ids throws(BPFError) in
                info = bpf_prog_info()
                info.nr_map_ids = wanted
                info.map_ids = address(ids.baseAddress)
                try self.info(&info, fd: fd)
            }
            // A map may have been bound in between; keep what both calls agree on.
            mapIDs = Array(mapIDs.prefix(Int(min(info.nr_map_ids, wanted))))
        }
        return ProgramInfo(
            type: ProgramType(rawValue: info.type), typeNumber: info.type, id: info.id,
            name: string(fromCharacters: info.name), tag: byteArray(of: info.tag),
            jitedSize: info.jited_prog_len, translatedSize: info.xlated_prog_len, loadTime: info.load_time,
            createdByUID: info.created_by_uid, mapIDs: mapIDs, interfaceIndex: info.ifindex,
            isGPLCompatible: info.gpl_compatible != 0, btfID: info.btf_id, functionInfoCount: info.nr_func_info,
            lineInfoCount: info.nr_line_info, runTime: info.run_time_ns, runCount: info.run_cnt,
            recursionMisses: info.recursion_misses, verifiedInstructions: info.verified_insns,
            attachBTFObjectID: info.attach_btf_obj_id, attachBTFID: info.attach_btf_id)
    }

    /// The instructions as the verifier left them (`xlated_prog_insns`), as bpftool dumps them.
    public static func translatedInstructions(fd: Int32) throws(BPFError) -> [RawInstruction] {
        let bytes = try programInfoArray(fd: fd, length: \.xlated_prog_len, pointer: \.xlated_prog_insns)
        let count = bytes.count / RawInstruction.byteCount * RawInstruction.byteCount
        return (try? RawInstruction.slots(from: Array(bytes.prefix(count)), order: .host)) ?? []
    }

    public static func mapInfo(fd: Int32) throws(BPFError) -> MapInfo {
        var info = bpf_map_info()
        try self.info(&info, fd: fd)
        return MapInfo(
            type: MapType(rawValue: info.type), id: info.id, name: string(fromCharacters: info.name),
            keySize: info.key_size, valueSize: info.value_size, maxEntries: info.max_entries, flags: info.map_flags,
            interfaceIndex: info.ifindex, btfID: info.btf_id, btfKeyTypeID: info.btf_key_type_id,
            btfValueTypeID: info.btf_value_type_id, btfVMLinuxValueTypeID: info.btf_vmlinux_value_type_id,
            mapExtra: info.map_extra)
    }

    /// A link's information. The kind-specific part is returned raw: its string and array
    /// fields need buffers that only the caller knows how to size.
    public static func linkInfo(fd: Int32) throws(BPFError) -> LinkInfo {
        // Larger than any kernel's struct bpf_link_info so far; the kernel takes a zero tail.
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = try buffer.withMutableBytes { bytes throws(BPFError) in try objectInfo(fd: fd, into: bytes) }
        func word(_ offset: Int) -> UInt32 {
            buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
        }
        return LinkInfo(type: word(0), id: word(4), programID: word(8),
                        details: Array(buffer[16..<max(16, min(length, buffer.count))]))
    }

    /// A BTF object's information; `name` for kernel BTF.
    public static func btfInfo(fd: Int32) throws(BPFError) -> BTFInfo {
        var name = [UInt8](repeating: 0, count: 64)
        var info = bpf_btf_info()
        try name.withMutableBytes { nameBytes throws(BPFError) in
            info.name = address(nameBytes.baseAddress)
            info.name_len = UInt32(nameBytes.count)
            try self.info(&info, fd: fd)
        }
        let end = name.firstIndex(of: 0) ?? name.count
        return BTFInfo(id: info.id, name: String(decoding: name[0..<end], as: UTF8.self), size: info.btf_size,
                       isKernel: info.kernel_btf != 0)
    }

    /// The bytes of a BTF object (a loaded object's own, or the kernel's).
    public static func btfBytes(fd: Int32) throws(BPFError) -> [UInt8] {
        var info = bpf_btf_info()
        try self.info(&info, fd: fd)
        var bytes = [UInt8](repeating: 0, count: Int(info.btf_size))
        try bytes.withMutableBytes { buffer throws(BPFError) in
            info = bpf_btf_info()
            info.btf = address(buffer.baseAddress)
            info.btf_size = UInt32(truncatingIfNeeded: buffer.count)
            try self.info(&info, fd: fd)
        }
        return Array(bytes.prefix(Int(info.btf_size)))
    }

    // MARK: bpffs

    /// BPF_OBJ_PIN: keeps the object alive at `path` in a bpf filesystem.
    public static func pin(fd: Int32, at path: String) throws(BPFError) {
        let subject = path
        var path = Array(path.utf8CString)
        try path.withMutableBuffer { pathname throws(BPFError) in
            var attr = zeroedAttributes()
            attr.pathname = address(pathname.baseAddress)
            attr.bpf_fd = UInt32(bitPattern: fd)
            try bpf(BPF_OBJ_PIN, &attr, name: "BPF_OBJ_PIN", subject: subject)
        }
    }

    /// BPF_OBJ_GET: opens what is pinned at `path`. `flags` (BPF_F_RDONLY, BPF_F_WRONLY)
    /// apply to maps.
    public static func openPinned(at path: String, flags: UInt32 = 0) throws(BPFError) -> FileDescriptor {
        let subject = path
        var path = Array(path.utf8CString)
        let fd = try path.withMutableBuffer { pathname throws(BPFError) in
            var attr = zeroedAttributes()
            attr.pathname = address(pathname.baseAddress)
            attr.file_flags = flags
            return try bpf(BPF_OBJ_GET, &attr, name: "BPF_OBJ_GET", subject: subject)
        }
        return FileDescriptor(owning: fd)
    }

    // MARK: Statistics

    /// BPF_ENABLE_STATS (BPF_STATS_RUN_TIME): programs count run time and runs for as long
    /// as the returned descriptor is open.
    public static func enableStatistics(type: UInt32 = BPF_STATS_RUN_TIME.rawValue) throws(BPFError) -> FileDescriptor {
        var attr = zeroedAttributes()
        attr.enable_stats.type = type
        return FileDescriptor(owning: try bpf(BPF_ENABLE_STATS, &attr, name: "BPF_ENABLE_STATS"))
    }
}
#endif
