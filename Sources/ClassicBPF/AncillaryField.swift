/// The Linux ancillary loads: an absolute load (`ld`, `ldh` or `ldb`) at SKF_AD_OFF plus one
/// of these offsets reads data about the packet instead of its bytes (linux/filter.h).
public enum AncillaryField: UInt32, Sendable, Hashable, CaseIterable {
    case `protocol` = 0            // SKF_AD_PROTOCOL: skb->protocol, the EtherType
    case packetType = 4            // SKF_AD_PKTTYPE: PACKET_HOST, PACKET_BROADCAST, ...
    case interfaceIndex = 8        // SKF_AD_IFINDEX
    case netlinkAttribute = 12     // SKF_AD_NLATTR: offset of attribute X from A, or 0
    case nestedNetlinkAttribute = 16  // SKF_AD_NLATTR_NEST: the same inside the attribute at A
    case mark = 20                 // SKF_AD_MARK
    case queue = 24                // SKF_AD_QUEUE: queue_mapping
    case hardwareType = 28         // SKF_AD_HATYPE: the device's ARPHRD_* type
    case receiveHash = 32          // SKF_AD_RXHASH
    case cpu = 36                  // SKF_AD_CPU
    case xorX = 40                 // SKF_AD_ALU_XOR_X: A ^= X
    case vlanTag = 44              // SKF_AD_VLAN_TAG: the TCI of an offloaded tag
    case vlanTagPresent = 48       // SKF_AD_VLAN_TAG_PRESENT
    case payloadOffset = 52        // SKF_AD_PAY_OFFSET: where the transport payload starts
    case random = 56               // SKF_AD_RANDOM
    case vlanProtocol = 60         // SKF_AD_VLAN_TPID

    /// SKF_AD_OFF: ancillary offsets count from here (as a 32-bit unsigned k, 0xfffff000).
    public static let baseOffset: Int32 = -0x1000
    /// SKF_AD_MAX: the end of the ancillary range.
    public static let rangeEnd: UInt32 = 64
    /// SKF_NET_OFF: loads at this offset plus n read byte n of the network header.
    public static let networkHeaderOffset: Int32 = -0x100000
    /// SKF_LL_OFF: loads at this offset plus n read byte n of the link-layer header.
    public static let linkLayerHeaderOffset: Int32 = -0x200000

    /// The load offset `k` that selects this field.
    public var offset: UInt32 { UInt32(bitPattern: Self.baseOffset) &+ rawValue }

    /// The field a load at offset `k` selects, if any.
    public init?(offset k: UInt32) {
        let relative = k &- UInt32(bitPattern: Self.baseOffset)
        guard relative < Self.rangeEnd, let field = AncillaryField(rawValue: relative) else { return nil }
        self = field
    }

    /// Whether `k` lies in the ancillary range, known field or not (the kernel refuses unknown ones).
    public static func isAncillary(_ k: UInt32) -> Bool { k >= UInt32(bitPattern: baseOffset) }

    /// The field named `name`: libpcap's name (`ld [vlanp]`) or the kernel's bpf_asm name
    /// (`ld #vlan_avail`, Documentation/networking/filter.rst) where that differs.
    public init?(name: String) {
        switch name {
        case "vlan_avail": self = .vlanTagPresent
        case "rand": self = .random
        default:
            guard let field = AncillaryField.allCases.first(where: { $0.name == name }) else { return nil }
            self = field
        }
    }

    /// The name libpcap's `bpf_image` prints inside the brackets: `ld [proto]`.
    public var name: String {
        switch self {
        case .protocol: "proto"
        case .packetType: "type"
        case .interfaceIndex: "ifidx"
        case .netlinkAttribute: "nla"
        case .nestedNetlinkAttribute: "nlan"
        case .mark: "mark"
        case .queue: "queue"
        case .hardwareType: "hatype"
        case .receiveHash: "rxhash"
        case .cpu: "cpu"
        case .xorX: "xor_x"
        case .vlanTag: "vlan_tci"
        case .vlanTagPresent: "vlanp"
        case .payloadOffset: "poff"
        case .random: "random"
        case .vlanProtocol: "vlan_tpid"
        }
    }
}
