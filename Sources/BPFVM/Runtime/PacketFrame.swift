/// The memory one packet run uses, allocated once per `LoadedProgram` and reused: a
/// page-sized frame with the packet in it and the context structure that points into it.
/// XDP frames are laid out as the kernel's test run lays them out (256 bytes of headroom for
/// xdp_adjust_head and xdp_adjust_meta, and tailroom for xdp_adjust_tail up to the
/// 320 bytes of skb_shared_info at the end); socket buffers get the kernel's 64 bytes of
/// headroom (NET_SKB_PAD).
final class PacketFrame: @unchecked Sendable {
    static let frameSize = 4096
    static let xdpHeadroom = 256
    /// SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64.
    static let tailroom = 320
    static let socketBufferHeadroom = 64
    /// sizeof(struct xdp_frame), which xdp_adjust_head and xdp_adjust_meta keep free at the start.
    static let xdpFrameHeader = 40
    static let ethernetHeader = 14

    let layout: PacketContextLayout
    let buffer: UnsafeMutableRawPointer
    let context: UnsafeMutableRawPointer
    /// Fields the host sets before runs (the kernel's test run defaults: loopback, queue 0).
    var interfaceIndex: UInt32 = 1

    init(layout: PacketContextLayout) {
        self.layout = layout
        buffer = .allocate(byteCount: Self.frameSize, alignment: 64)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: Self.frameSize)
        context = .allocate(byteCount: layout.hostSize, alignment: 8)
        context.initializeMemory(as: UInt8.self, repeating: 0, count: layout.hostSize)
    }

    deinit {
        buffer.deallocate()
        context.deallocate()
    }

    var start: UInt64 { UInt64(UInt(bitPattern: buffer)) }
    var contextAddress: UInt64 { UInt64(UInt(bitPattern: context)) }
    /// Where the packet data may end at most: the frame less its tailroom.
    var hardEnd: UInt64 { start + UInt64(Self.frameSize - Self.tailroom) }

    /// The most packet bytes a run takes, as the kernel's test run allows.
    var maximumPacketSize: Int {
        Self.frameSize - Self.tailroom - (layout == .xdp ? Self.xdpHeadroom : Self.socketBufferHeadroom)
    }

    subscript(pointer offset: Int) -> UInt64 {
        get { context.load(fromByteOffset: offset, as: UInt64.self) }
        set { context.storeBytes(of: newValue, toByteOffset: offset, as: UInt64.self) }
    }

    private func setField(_ offset: Int, _ value: UInt32) {
        context.storeBytes(of: value, toByteOffset: offset, as: UInt32.self)
    }

    var data: UInt64 {
        get { self[pointer: layout.dataPointer] }
        set { self[pointer: layout.dataPointer] = newValue }
    }
    var dataEnd: UInt64 {
        get { self[pointer: layout.dataEndPointer] }
        set { self[pointer: layout.dataEndPointer] = newValue }
    }
    var dataMeta: UInt64 {
        get { self[pointer: layout.dataMetaPointer] }
        set { self[pointer: layout.dataMetaPointer] = newValue }
    }

    /// Copies `packet` into the frame and fills the context for a fresh run; nil when the
    /// packet is shorter than an Ethernet header or longer than the frame holds (the test run
    /// refuses both).
    func load(_ packet: UnsafeRawBufferPointer) -> Bool {
        guard packet.count >= Self.ethernetHeader, packet.count <= maximumPacketSize else { return false }
        context.initializeMemory(as: UInt8.self, repeating: 0, count: layout.hostSize)
        let headroom = layout == .xdp ? Self.xdpHeadroom : Self.socketBufferHeadroom
        if let base = packet.baseAddress { (buffer + headroom).copyMemory(from: base, byteCount: packet.count) }
        let first = start + UInt64(headroom)
        switch layout {
        case .xdp:
            data = first
            dataMeta = first
            dataEnd = first + UInt64(packet.count)
            setField(12, interfaceIndex)          // ingress_ifindex; rx_queue_index stays 0
        case .trafficControl, .socketFilter:
            // The socket filter sees the packet after eth_type_trans pulled the Ethernet header.
            let pulled = layout == .socketFilter ? UInt64(Self.ethernetHeader) : 0
            data = first + pulled
            dataMeta = first + pulled
            dataEnd = first + UInt64(packet.count)
            setField(0, UInt32(packet.count) - UInt32(pulled))   // len
            setField(4, Self.packetType(packet))
            setField(16, Self.protocolField(packet))
            setField(40, interfaceIndex)          // ifindex
        }
        return true
    }

    /// The packet as the program left it: data to data_end (for a socket filter, with the
    /// Ethernet header in front again); nil if the pointers left the frame.
    var packet: UnsafeRawBufferPointer? {
        let from = layout == .socketFilter ? data &- UInt64(Self.ethernetHeader) : data
        guard from >= start, from <= dataEnd, dataEnd <= start + UInt64(Self.frameSize) else { return nil }
        return UnsafeRawBufferPointer(start: buffer + Int(from - start), count: Int(dataEnd - from))
    }

    /// XDP metadata: data_meta to data.
    var metadata: UnsafeRawBufferPointer? {
        guard dataMeta >= start, dataMeta <= data, data <= start + UInt64(Self.frameSize) else { return nil }
        return UnsafeRawBufferPointer(start: buffer + Int(dataMeta - start), count: Int(data - dataMeta))
    }

    /// The memory checked runs may access as packet: the whole frame for XDP (the program
    /// can move data into the headroom and tailroom); the data itself for socket buffers,
    /// which is also what their legacy packet loads read.
    var input: UnsafeMutableRawBufferPointer {
        switch layout {
        case .xdp: UnsafeMutableRawBufferPointer(start: buffer, count: Self.frameSize)
        case .trafficControl, .socketFilter:
            UnsafeMutableRawBufferPointer(start: buffer + Int(data - start), count: Int(dataEnd - data))
        }
    }

    /// skb->pkt_type after eth_type_trans on the loopback device (address 00:00:00:00:00:00):
    /// PACKET_BROADCAST 1, PACKET_MULTICAST 2, PACKET_OTHERHOST 3, PACKET_HOST 0.
    private static func packetType(_ packet: UnsafeRawBufferPointer) -> UInt32 {
        if (0..<6).allSatisfy({ packet[$0] == 0xff }) { return 1 }
        if packet[0] & 1 != 0 { return 2 }
        return (0..<6).allSatisfy({ packet[$0] == 0 }) ? 0 : 3
    }

    /// skb->protocol as eth_type_trans sets it, a big-endian 16-bit value read as a number
    /// on this host: the EtherType, ETH_P_802_3 for raw 802.3, else ETH_P_802_2.
    private static func protocolField(_ packet: UnsafeRawBufferPointer) -> UInt32 {
        let type = UInt16(packet[12]) << 8 | UInt16(packet[13])
        let value: UInt16 = type >= 1536 ? type : (packet.count >= 16 && packet[14] == 0xff && packet[15] == 0xff ? 0x0001 : 0x0004)
        return UInt32(value.bigEndian)
    }
}
