/// The names tcpdump prints for a link type ("reading from file …, link-type EN10MB
/// (Ethernet)"): libpcap's DLT name and its description. Those of the link types named in
/// `LinkType` and met in the shared captures; others print as their number, as tcpdump
/// prints a link type libpcap does not know.
extension LinkType {
    private static let pcapNames: [UInt16: (name: String, description: String)] = [
        0: ("NULL", "BSD loopback"),
        1: ("EN10MB", "Ethernet"),
        6: ("IEEE802", "Token ring"),
        7: ("ARCNET", "BSD ARCNET"),
        8: ("SLIP", "SLIP"),
        9: ("PPP", "PPP"),
        10: ("FDDI", "FDDI"),
        50: ("PPP_SERIAL", "PPP over serial"),
        51: ("PPP_ETHER", "PPPoE"),
        100: ("ATM_RFC1483", "RFC 1483 LLC-encapsulated ATM"),
        101: ("RAW", "Raw IP"),
        104: ("C_HDLC", "Cisco HDLC"),
        105: ("IEEE802_11", "802.11"),
        106: ("ATM_CLIP", "Linux Classical IP over ATM"),
        107: ("FRELAY", "Frame Relay"),
        108: ("LOOP", "OpenBSD loopback"),
        109: ("ENC", "OpenBSD encapsulated IP"),
        113: ("LINUX_SLL", "Linux cooked v1"),
        114: ("LTALK", "Localtalk"),
        117: ("PFLOG", "OpenBSD pflog file"),
        119: ("PRISM_HEADER", "802.11 plus Prism header"),
        122: ("IP_OVER_FC", "RFC 2625 IP-over-Fibre Channel"),
        123: ("SUNATM", "Sun raw ATM"),
        127: ("IEEE802_11_RADIO", "802.11 plus radiotap header"),
        129: ("ARCNET_LINUX", "Linux ARCNET"),
        132: ("JUNIPER_ES", "Juniper Encryption Services PIC"),
        137: ("JUNIPER_ATM1", "Juniper ATM1 PIC"),
        144: ("LINUX_IRDA", "Linux IrDA"),
        163: ("IEEE802_11_RADIO_AVS", "802.11 plus AVS radio information header"),
        164: ("JUNIPER_MONITOR", "Juniper Passive Monitor PIC"),
        178: ("JUNIPER_ETHER", "Juniper Ethernet"),
        182: ("MFR", "FRF.16 Frame Relay"),
        187: ("BLUETOOTH_HCI_H4", "Bluetooth HCI UART transport layer"),
        189: ("USB_LINUX", "USB with Linux header"),
        192: ("PPI", "Per-Packet Information"),
        195: ("IEEE802_15_4", "IEEE 802.15.4 with FCS"),
        197: ("ERF", "Endace ERF header"),
        201: ("BLUETOOTH_HCI_H4_WITH_PHDR", "Bluetooth HCI UART transport layer plus pseudo-header"),
        220: ("USB_LINUX_MMAPPED", "USB with padded Linux header"),
        226: ("IPNET", "Solaris ipnet"),
        227: ("CAN_SOCKETCAN", "CAN-bus with SocketCAN headers"),
        228: ("IPV4", "Raw IPv4"),
        229: ("IPV6", "Raw IPv6"),
        230: ("IEEE802_15_4_NOFCS", "IEEE 802.15.4 without FCS"),
        231: ("DBUS", "D-Bus"),
        239: ("NFLOG", "Linux netfilter log messages"),
        242: ("IPOIB", "RFC 4391 IP-over-Infiniband"),
        249: ("USBPCAP", "USB with USBPcap header"),
        251: ("BLUETOOTH_LE_LL", "Bluetooth Low Energy air interface"),
        253: ("NETLINK", "Linux netlink"),
        254: ("BLUETOOTH_LINUX_MONITOR", "Bluetooth Linux Monitor"),
        258: ("PKTAP", "Apple DLT_PKTAP"),
        271: ("VSOCK", "Linux vsock"),
        276: ("LINUX_SLL2", "Linux cooked v2"),
        279: ("EBHSCR", "Elektrobit High Speed Capture and Replay (EBHSCR)"),
        281: ("DSA_TAG_BRCM", "Broadcom tag"),
        282: ("DSA_TAG_BRCM_PREPEND", "Broadcom tag (prepended)"),
        284: ("DSA_TAG_DSA", "Marvell DSA"),
        285: ("DSA_TAG_EDSA", "Marvell EDSA"),
    ]

    /// The link type libpcap names `name` (`EN10MB`, `LINUX_SLL2`; any case, `DLT_` or not),
    /// as tcpdump -y takes it.
    public init?(pcapName name: String) {
        var wanted = name.uppercased()
        if wanted.hasPrefix("DLT_") { wanted.removeFirst(4) }
        guard let value = Self.pcapNames.first(where: { $0.value.name == wanted })?.key else { return nil }
        self.init(rawValue: value)
    }

    /// `EN10MB (Ethernet)`, or the number.
    public var pcapDescription: String {
        guard let known = Self.pcapNames[rawValue] else { return "\(rawValue)" }
        return "\(known.name) (\(known.description))"
    }
}
