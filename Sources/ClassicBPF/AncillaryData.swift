/// What Linux knows about a packet besides its bytes: the values the ancillary loads read,
/// and where the headers start for loads at SKF_NET_OFF and SKF_LL_OFF. Passing one to the
/// interpreter selects the kernel's rules for loads outside the packet (see
/// `ClassicInterpreter`); the translation to eBPF carries it in its context block.
public struct AncillaryData: Sendable, Hashable {
    /// skb->protocol as a number (0x0800 for IPv4).
    public var `protocol`: UInt16
    /// skb->pkt_type: 0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing.
    public var packetType: UInt8
    public var interfaceIndex: UInt32
    public var mark: UInt32
    public var queue: UInt16
    /// The device's ARPHRD_* type (1 for Ethernet).
    public var hardwareType: UInt16
    public var receiveHash: UInt32
    public var cpu: UInt32
    /// The TCI of a VLAN tag the driver took off the packet.
    public var vlanTag: UInt16
    public var vlanTagPresent: Bool
    /// The TPID of that tag (0x8100).
    public var vlanProtocol: UInt16
    /// What the kernel's flow dissector finds as the start of the transport payload.
    public var payloadOffset: UInt32
    /// What SKF_AD_RANDOM returns on this run, so that runs are repeatable.
    public var random: UInt32
    /// Where the network header starts in the packet's bytes; nil: loads at SKF_NET_OFF fail.
    public var networkHeaderOffset: UInt32?
    /// Where the link-layer header starts; nil (no MAC header set): loads at SKF_LL_OFF fail.
    public var linkLayerHeaderOffset: UInt32?

    public init(protocol: UInt16 = 0, packetType: UInt8 = 0, interfaceIndex: UInt32 = 0, mark: UInt32 = 0,
                queue: UInt16 = 0, hardwareType: UInt16 = 0, receiveHash: UInt32 = 0, cpu: UInt32 = 0,
                vlanTag: UInt16 = 0, vlanTagPresent: Bool = false, vlanProtocol: UInt16 = 0,
                payloadOffset: UInt32 = 0, random: UInt32 = 0,
                networkHeaderOffset: UInt32? = nil, linkLayerHeaderOffset: UInt32? = nil) {
        self.protocol = `protocol`
        self.packetType = packetType
        self.interfaceIndex = interfaceIndex
        self.mark = mark
        self.queue = queue
        self.hardwareType = hardwareType
        self.receiveHash = receiveHash
        self.cpu = cpu
        self.vlanTag = vlanTag
        self.vlanTagPresent = vlanTagPresent
        self.vlanProtocol = vlanProtocol
        self.payloadOffset = payloadOffset
        self.random = random
        self.networkHeaderOffset = networkHeaderOffset
        self.linkLayerHeaderOffset = linkLayerHeaderOffset
    }

    /// The value an ancillary load of `field` gives, for the fields that are plain values
    /// (not the netlink searches and not `xorX`, which depend on A, X and the packet).
    public func value(of field: AncillaryField) -> UInt32 {
        switch field {
        case .protocol: UInt32(self.protocol)
        case .packetType: UInt32(packetType & 7)
        case .interfaceIndex: interfaceIndex
        case .mark: mark
        case .queue: UInt32(queue)
        case .hardwareType: UInt32(hardwareType)
        case .receiveHash: receiveHash
        case .cpu: cpu
        case .vlanTag: UInt32(vlanTag)
        case .vlanTagPresent: vlanTagPresent ? 1 : 0
        case .vlanProtocol: UInt32(vlanProtocol)
        case .payloadOffset: payloadOffset
        case .random: random
        case .netlinkAttribute, .nestedNetlinkAttribute, .xorX: 0
        }
    }
}
