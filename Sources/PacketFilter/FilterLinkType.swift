/// The link-layer headers the compiler knows, named as the CLI names them.
public enum FilterLinkType: String, Sendable, Hashable, CaseIterable {
    /// DLT_EN10MB: 14-byte Ethernet II / 802.3 header.
    case ethernet
    /// DLT_RAW: the packet starts with the IPv4 or IPv6 header.
    case raw
    /// DLT_LINUX_SLL: Linux cooked capture v1, 16-byte header, protocol at 14.
    case sll
    /// DLT_LINUX_SLL2: Linux cooked capture v2, 20-byte header, protocol at 0.
    case sll2
    /// DLT_NULL: BSD loopback, a 4-byte address family in the capturing host's byte order.
    case null
    /// DLT_IPV4 and DLT_IPV6: the packet starts with an IPv4 (IPv6) header, and every packet
    /// is one: libpcap reads no version there, so `ip` holds on every packet (`ip6` on none).
    case ipv4
    case ipv6

    /// The LINKTYPE_ value capture files carry.
    public var linkTypeValue: UInt16 {
        switch self {
        case .ethernet: 1
        case .raw: 101
        case .sll: 113
        case .sll2: 276
        case .null: 0
        case .ipv4: 228
        case .ipv6: 229
        }
    }

    /// The name `tcpdump -y` takes.
    public var dataLinkName: String {
        switch self {
        case .ethernet: "EN10MB"
        case .raw: "RAW"
        case .sll: "LINUX_SLL"
        case .sll2: "LINUX_SLL2"
        case .null: "NULL"
        case .ipv4: "IPV4"
        case .ipv6: "IPV6"
        }
    }

    /// The link type for a capture file's LINKTYPE_ value; nil for those not supported.
    /// LINKTYPE_RAW is 101 in files; DLT_RAW's 12 and 14 are taken too.
    public init?(linkTypeValue: UInt16) {
        switch linkTypeValue {
        case 1: self = .ethernet
        case 101, 12, 14: self = .raw
        case 113: self = .sll
        case 276: self = .sll2
        case 0: self = .null
        case 228: self = .ipv4
        case 229: self = .ipv6
        default: return nil
        }
    }

    /// Where the network-layer header starts.
    var networkOffset: UInt32 {
        switch self {
        case .ethernet: 14
        case .raw, .ipv4, .ipv6: 0
        case .sll: 16
        case .sll2: 20
        case .null: 4
        }
    }
}
