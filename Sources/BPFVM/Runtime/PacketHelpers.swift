/// The helpers that change or copy a program's packet, with the kernel's checks and errnos.
extension KernelHelpers {
    static func packetHelpers(_ frame: PacketFrame) -> [Helper] {
        switch frame.layout {
        case .xdp:
            [
                Helper(id: 44, name: "xdp_adjust_head") { call throws(VMError) in
                    try frame.checkContext(call)
                    return frame.adjustHead(by: Int64(Int32(truncatingIfNeeded: call.r2)))
                },
                Helper(id: 54, name: "xdp_adjust_meta") { call throws(VMError) in
                    try frame.checkContext(call)
                    return frame.adjustMeta(by: Int64(Int32(truncatingIfNeeded: call.r2)))
                },
                Helper(id: 65, name: "xdp_adjust_tail") { call throws(VMError) in
                    try frame.checkContext(call)
                    return frame.adjustTail(by: Int64(Int32(truncatingIfNeeded: call.r2)))
                },
            ]
        case .trafficControl, .socketFilter:
            [
                Helper(id: 26, name: "skb_load_bytes") { call throws(VMError) in
                    try frame.checkContext(call)
                    let to = try call.memory(at: call.r3, count: try size(call.r4, call), writing: true)
                    guard call.r2 <= UInt64(Int32.max), let from = frame.packetBytes(at: call.r2, count: to.count) else {
                        to.initializeMemory(as: UInt8.self, repeating: 0)
                        return Errno.fault
                    }
                    to.copyMemory(from: from)
                    return 0
                },
                Helper(id: 9, name: "skb_store_bytes") { call throws(VMError) in
                    try frame.checkContext(call)
                    let from = try call.memory(at: call.r3, count: try size(call.r4, call))
                    guard call.r5 & ~3 == 0 else { return Errno.invalid }   // BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH
                    guard call.r2 <= 0xffff, let to = frame.packetBytes(at: call.r2, count: from.count) else { return Errno.fault }
                    UnsafeMutableRawBufferPointer(mutating: to).copyMemory(from: UnsafeRawBufferPointer(from))
                    if call.r5 & 2 != 0 { frame.context.storeBytes(of: 0, toByteOffset: 68, as: UInt32.self) }  // hash
                    return 0
                },
            ]
        }
    }

    /// bpf_csum_diff as Linux 6.13 and later compute it: the ones' complement sum of `seed`
    /// and the words of `to`, minus the sum of the words of `from`, folded to 16 bits. The
    /// fold matters: programs add the result to 16-bit checksums on 32 bits, and a 32-bit
    /// result with the same sum modulo 0xffff can carry out where the kernel's does not.
    static let checksumDifference = Helper(id: 28, name: "csum_diff") { call throws(VMError) in
        let fromSize = try size(call.r2, call), toSize = try size(call.r4, call)
        guard (fromSize | toSize) & 3 == 0, fromSize + toSize <= 512 else { return Errno.invalid }
        let from = fromSize == 0 ? nil : try call.memory(at: call.r1, count: fromSize)
        let to = toSize == 0 ? nil : try call.memory(at: call.r3, count: toSize)
        let seed = UInt32(truncatingIfNeeded: call.r5)
        let sum: UInt32
        switch (from, to) {
        case (let from?, let to?): sum = onesComplementSubtract(partialChecksum(to, seed: seed), partialChecksum(from, seed: 0))
        case (nil, let to?): sum = partialChecksum(to, seed: seed)
        case (let from?, nil): sum = ~partialChecksum(from, seed: ~seed)
        case (nil, nil): sum = seed
        }
        // Folded as the kernel's csum_from32to16: the high half of sum + sum rotated by 16.
        return UInt64((sum &+ (sum >> 16 | sum << 16)) >> 16)
    }

    /// The kernel's csum_partial over whole 32-bit words: their sum with `seed`, the carries
    /// added back in, as a 32-bit number that is 0 only when everything was.
    private static func partialChecksum(_ words: UnsafeMutableRawBufferPointer, seed: UInt32) -> UInt32 {
        var sum = UInt64(seed)
        for offset in stride(from: 0, to: words.count, by: 4) {
            sum += UInt64(words.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        }
        while sum >> 32 != 0 { sum = (sum & 0xffff_ffff) + (sum >> 32) }
        return UInt32(sum)
    }

    /// csum_sub: a + ~b with the carry added back in.
    private static func onesComplementSubtract(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let (sum, carry) = a.addingReportingOverflow(~b)
        return sum &+ (carry ? 1 : 0)
    }
}

extension PacketFrame {
    /// Packet helpers take the context; anything else in r1 is a program error.
    func checkContext(_ call: HelperCall) throws(VMError) {
        guard call.r1 == contextAddress else { throw call.failure("argument 1 (r1) \(hex(call.r1)) is not the program's context") }
    }

    /// `count` bytes of packet data at `offset`, or nil when they are not all inside it.
    func packetBytes(at offset: UInt64, count: Int) -> UnsafeRawBufferPointer? {
        let length = dataEnd &- data
        guard offset <= length, UInt64(count) <= length - offset else { return nil }
        return UnsafeRawBufferPointer(start: buffer + Int(data - start + offset), count: count)
    }

    /// bpf_xdp_adjust_head: data moves by `delta`, keeping an xdp_frame's room before the
    /// metadata and an Ethernet header's after it; the metadata moves along.
    func adjustHead(by delta: Int64) -> UInt64 {
        let metaLength = data - dataMeta
        let lowest = Int64(start + UInt64(Self.xdpFrameHeader) + metaLength)
        let newData = Int64(data) + delta
        guard newData >= lowest, newData <= Int64(dataEnd) - Int64(Self.ethernetHeader) else { return Errno.invalid }
        if metaLength > 0 {
            let from = buffer + Int(dataMeta - start)
            (from + Int(delta)).copyMemory(from: from, byteCount: Int(metaLength))
        }
        dataMeta = UInt64(Int64(dataMeta) + delta)
        data = UInt64(newData)
        return 0
    }

    /// bpf_xdp_adjust_meta: metadata of at most 32 bytes, a multiple of 4, between the
    /// xdp_frame's room and the data.
    func adjustMeta(by delta: Int64) -> UInt64 {
        let meta = Int64(dataMeta) + delta
        guard meta >= Int64(start) + Int64(Self.xdpFrameHeader), meta <= Int64(data) else { return Errno.invalid }
        let length = Int64(data) - meta
        guard length & 3 == 0, length <= 32 else { return Errno.accessDenied }
        dataMeta = UInt64(meta)
        return 0
    }

    /// bpf_xdp_adjust_tail: data_end moves by `delta`, up to the tailroom and down to an
    /// Ethernet header; grown bytes are zeroed.
    func adjustTail(by delta: Int64) -> UInt64 {
        let newEnd = Int64(dataEnd) + delta
        guard newEnd <= Int64(hardEnd), newEnd >= Int64(data) + Int64(Self.ethernetHeader) else { return Errno.invalid }
        if delta > 0 { (buffer + Int(dataEnd - start)).initializeMemory(as: UInt8.self, repeating: 0, count: Int(delta)) }
        dataEnd = UInt64(newEnd)
        return 0
    }
}
