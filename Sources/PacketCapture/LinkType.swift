/// A LINKTYPE_* value from the tcpdump.org registry: what the bytes of each packet start
/// with. A struct rather than an enum because the registry is open — a file may carry any
/// 16-bit value, and it must come back unchanged — while the common ones still read by name
/// (`.ethernet`) and work in `switch`.
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let null = LinkType(0)
    public static let ethernet = LinkType(1)
    public static let ax25 = LinkType(3)
    public static let ieee802_5 = LinkType(6)
    public static let arcnetBSD = LinkType(7)
    public static let slip = LinkType(8)
    public static let ppp = LinkType(9)
    public static let fddi = LinkType(10)
    public static let pppHDLC = LinkType(50)
    public static let pppEther = LinkType(51)
    public static let atmRFC1483 = LinkType(100)
    public static let raw = LinkType(101)
    public static let cHDLC = LinkType(104)
    public static let ieee802_11 = LinkType(105)
    public static let frameRelay = LinkType(107)
    public static let loop = LinkType(108)
    public static let linuxSLL = LinkType(113)
    public static let localTalk = LinkType(114)
    public static let pflog = LinkType(117)
    public static let ieee802_11Prism = LinkType(119)
    public static let ipOverFC = LinkType(122)
    public static let sunATM = LinkType(123)
    public static let ieee802_11Radiotap = LinkType(127)
    public static let arcnetLinux = LinkType(129)
    public static let linuxIrDA = LinkType(144)
    public static let ieee802_11AVS = LinkType(163)
    public static let bluetoothHCIH4 = LinkType(187)
    public static let usbLinux = LinkType(189)
    public static let ppi = LinkType(192)
    public static let ieee802_15_4WithFCS = LinkType(195)
    public static let erf = LinkType(197)
    public static let bluetoothHCIH4WithPHDR = LinkType(201)
    public static let usbLinuxMmapped = LinkType(220)
    public static let ipnet = LinkType(226)
    public static let canSocketCAN = LinkType(227)
    public static let ipv4 = LinkType(228)
    public static let ipv6 = LinkType(229)
    public static let ieee802_15_4NoFCS = LinkType(230)
    public static let dbus = LinkType(231)
    public static let nflog = LinkType(239)
    public static let ipoib = LinkType(242)
    public static let usbPcap = LinkType(249)
    public static let bluetoothLELL = LinkType(251)
    public static let netlink = LinkType(253)
    public static let bluetoothLinuxMonitor = LinkType(254)
    public static let pktap = LinkType(258)
    public static let vsock = LinkType(271)
    public static let linuxSLL2 = LinkType(276)
    public static let ebhscr = LinkType(279)

    private static let names: [UInt16: String] = [
        0: "NULL", 1: "ETHERNET", 3: "AX25", 6: "IEEE802_5", 7: "ARCNET_BSD", 8: "SLIP", 9: "PPP",
        10: "FDDI", 50: "PPP_HDLC", 51: "PPP_ETHER", 100: "ATM_RFC1483", 101: "RAW", 104: "C_HDLC",
        105: "IEEE802_11", 107: "FRELAY", 108: "LOOP", 113: "LINUX_SLL", 114: "LTALK", 117: "PFLOG",
        119: "IEEE802_11_PRISM", 122: "IP_OVER_FC", 123: "SUNATM", 127: "IEEE802_11_RADIOTAP",
        129: "ARCNET_LINUX", 144: "LINUX_IRDA", 163: "IEEE802_11_AVS", 187: "BLUETOOTH_HCI_H4",
        189: "USB_LINUX", 192: "PPI", 195: "IEEE802_15_4_WITHFCS", 197: "ERF",
        201: "BLUETOOTH_HCI_H4_WITH_PHDR", 220: "USB_LINUX_MMAPPED", 226: "IPNET",
        227: "CAN_SOCKETCAN", 228: "IPV4", 229: "IPV6", 230: "IEEE802_15_4_NOFCS", 231: "DBUS",
        239: "NFLOG", 242: "IPOIB", 249: "USBPCAP", 251: "BLUETOOTH_LE_LL", 253: "NETLINK",
        254: "BLUETOOTH_LINUX_MONITOR", 258: "PKTAP", 271: "VSOCK", 276: "LINUX_SLL2", 279: "EBHSCR",
    ]

    /// The registry name without the `LINKTYPE_` prefix, for the values named above.
    public var name: String? { Self.names[rawValue] }

    public var description: String { name ?? "LINKTYPE \(rawValue)" }

    /// The largest captured length libpcap accepts for this link type; a pcap record that
    /// claims more (and more than the file's snapshot length) is taken as damage.
    public var maximumCapturedLength: Int {
        switch self {
        case .dbus: 128 << 20
        case .ebhscr: 8 << 20
        case .usbPcap: 1 << 20
        default: 262_144
        }
    }
}
