/// What the decoder found in one packet: its layers from the link header up, in order, and
/// where the captured bytes ran out. `PacketPrinter` turns it into tcpdump's one line; it
/// encodes to JSON as `{"layers": [{"tcp": {...}}, ...], "truncatedIn": "tcp"}`.
public struct PacketSummary: Sendable, Hashable, Encodable {
    public var layers: [PacketLayer] = []
    /// The protocol being decoded when the captured bytes ended (tcpdump prints `[|tcp]`).
    public var truncatedIn: String?
    /// Where tcpdump, having no dissector for what follows (an unknown EtherType or ARP
    /// operation), prints the rest of the captured bytes in hex under the line; nil when
    /// it does not.
    public var rawDataOffset: Int?
    /// Whether that dump prints with -x, -X and -q too: tcpdump's ARP printer does not ask.
    public var rawDataAlwaysPrinted = false

    public init(layers: [PacketLayer] = [], truncatedIn: String? = nil) {
        self.layers = layers
        self.truncatedIn = truncatedIn
    }

    /// True when the record's lengths are impossible (`[Invalid header: …]`): the packet
    /// was not decoded, and tcpdump prints no timestamp before the notice.
    public var hasInvalidRecordHeader: Bool {
        if layers.count == 1, case .notice(let text) = layers[0] { return text.hasPrefix("[Invalid header:") }
        return false
    }

    /// The protocols met that the decoder does not take apart (`"ethertype 0x88cc"`,
    /// `"HTTP"`); empty when every byte it looked at was understood.
    public var undecoded: [String] {
        layers.compactMap { if case .undecoded(let name) = $0 { name } else { nil } }
    }
}

public enum PacketLayer: Sendable, Hashable, Encodable {
    case ethernet(EthernetHeader)
    case vlan(VLANTag)
    case linuxCooked(LinuxCookedHeader)
    /// The 4-byte address family of BSD loopback (`null`) and OpenBSD `loop` captures.
    case loopback(family: UInt32)
    /// The EtherType of a Cisco HDLC frame.
    /// Cisco HDLC: the address (0x0f unicast, 0x8f broadcast) and the EtherType.
    case ciscoHDLC(address: UInt8, protocolType: UInt16)
    case arp(ARPMessage)
    case ipv4(IPv4Header)
    case ipv6(IPv6Header)
    case ipv6Extension(IPv6ExtensionHeader)
    case tcp(TCPSegment)
    case udp(UDPDatagram)
    case sctp(SCTPPacket)
    case dccp(DCCPPacket)
    case igmp(IGMPMessage)
    case gre(GREPacket)
    case vrrp(VRRPMessage)
    case eigrp(EIGRPMessage)
    case icmp(ICMPMessage)
    case icmpv6(ICMPMessage)
    case dns(DNSMessage)
    /// Text printed as it stands: a remark on a malformed packet (`truncated-ip - 20 bytes
    /// missing! `) or tcpdump's words for a protocol that ends the decoding (`ip-proto-63 62`).
    case notice(String)
    /// The network layer's name (`IP `) before a remark on a header that could not be read;
    /// -e leaves it out, as it does for a decoded header.
    case protocolName(String)
    /// The Ethernet header of a frame whose type (after any VLAN tags, in `etherType`)
    /// tcpdump takes no further: it prints the header then, -e or not.
    case undissectedFrame(EthernetHeader, frameLength: Int)
    /// A protocol this decoder does not take apart; the rest of the packet stays undecoded.
    case undecoded(String)

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .ethernet(let value): try container.encode(value, forKey: Key(stringValue: "ethernet"))
        case .vlan(let value): try container.encode(value, forKey: Key(stringValue: "vlan"))
        case .linuxCooked(let value): try container.encode(value, forKey: Key(stringValue: "linuxCooked"))
        case .loopback(let family): try container.encode(["family": family], forKey: Key(stringValue: "loopback"))
        case .ciscoHDLC(let address, let type): try container.encode(["address": UInt16(address), "protocolType": type], forKey: Key(stringValue: "ciscoHDLC"))
        case .arp(let value): try container.encode(value, forKey: Key(stringValue: "arp"))
        case .ipv4(let value): try container.encode(value, forKey: Key(stringValue: "ipv4"))
        case .ipv6(let value): try container.encode(value, forKey: Key(stringValue: "ipv6"))
        case .ipv6Extension(let value): try container.encode(value, forKey: Key(stringValue: "ipv6Extension"))
        case .tcp(let value): try container.encode(value, forKey: Key(stringValue: "tcp"))
        case .udp(let value): try container.encode(value, forKey: Key(stringValue: "udp"))
        case .sctp(let value): try container.encode(value, forKey: Key(stringValue: "sctp"))
        case .dccp(let value): try container.encode(value, forKey: Key(stringValue: "dccp"))
        case .igmp(let value): try container.encode(value, forKey: Key(stringValue: "igmp"))
        case .gre(let value): try container.encode(value, forKey: Key(stringValue: "gre"))
        case .vrrp(let value): try container.encode(value, forKey: Key(stringValue: "vrrp"))
        case .eigrp(let value): try container.encode(value, forKey: Key(stringValue: "eigrp"))
        case .icmp(let value): try container.encode(value, forKey: Key(stringValue: "icmp"))
        case .icmpv6(let value): try container.encode(value, forKey: Key(stringValue: "icmpv6"))
        case .dns(let value): try container.encode(value, forKey: Key(stringValue: "dns"))
        case .notice(let text): try container.encode(text, forKey: Key(stringValue: "notice"))
        case .protocolName(let name): try container.encode(name, forKey: Key(stringValue: "protocolName"))
        case .undissectedFrame(let header, let frameLength):
            try container.encode(UndissectedFrame(header: header, frameLength: frameLength), forKey: Key(stringValue: "undissectedFrame"))
        case .undecoded(let name): try container.encode(name, forKey: Key(stringValue: "undecoded"))
        }
    }
}

/// `PacketLayer.undissectedFrame` in JSON.
private struct UndissectedFrame: Encodable {
    var header: EthernetHeader
    var frameLength: Int
}

public struct EthernetHeader: Sendable, Hashable, Encodable {
    public var source: MACAddress
    public var destination: MACAddress
    public var etherType: UInt16
}

/// An 802.1Q or 802.1ad tag.
public struct VLANTag: Sendable, Hashable, Encodable {
    public var tagProtocol: UInt16
    public var id: UInt16
    public var priority: UInt8
    public var dropEligible: Bool
    /// The type of what follows the tag.
    public var etherType: UInt16
    /// True inside a Linux cooked header, where tcpdump names the inner type.
    public var inCookedHeader: Bool
}

/// Linux's `any`-device header: SLL (16 bytes) or SLL2 (20 bytes, with the interface index).
public struct LinuxCookedHeader: Sendable, Hashable, Encodable {
    public var version: Int
    /// 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us.
    public var packetType: UInt16
    public var hardwareType: UInt16
    public var address: [UInt8]
    public var etherType: UInt16
    public var interfaceIndex: UInt32?
}

public struct ARPMessage: Sendable, Hashable, Encodable {
    public var hardwareType: UInt16
    public var protocolType: UInt16
    public var operation: UInt16
    public var senderHardware: MACAddress
    public var senderAddress: IPv4Address
    public var targetHardware: MACAddress
    public var targetAddress: IPv4Address
    /// Bytes from the ARP header on, as on the wire.
    public var length: Int
    /// The protocol address length; the addresses are IPv4 ones only when it is 4.
    public var protocolLength: Int
}

public struct IPv4Header: Sendable, Hashable, Encodable {
    public var source: IPv4Address
    public var destination: IPv4Address
    public var protocolNumber: UInt8
    public var timeToLive: UInt8
    public var identification: UInt16
    public var headerLength: Int
    public var totalLength: Int
    /// In bytes.
    public var fragmentOffset: Int
    public var moreFragments: Bool
    public var dontFragment: Bool
    /// Bytes the header's total length claims beyond those on the wire.
    public var missingBytes: Int?
    /// Decoded with -v only: the type of service, the reserved ("evil") flag, the options in
    /// tcpdump's words, whether the capture ended inside them, and the header checksum
    /// (nil when the header was not captured whole).
    public var typeOfService: UInt8 = 0
    public var reservedFlag = false
    public var options: String?
    public var optionsTruncated = false
    public var headerChecksum: ChecksumCheck?
}

public struct IPv6Header: Sendable, Hashable, Encodable {
    public var source: IPv6Address
    public var destination: IPv6Address
    public var nextHeader: UInt8
    public var hopLimit: UInt8
    public var payloadLength: Int
    public var flowLabel: UInt32
    /// Bytes the header's payload length claims beyond those on the wire.
    public var missingBytes: Int?
    public var trafficClass: UInt8 = 0
}

public struct IPv6ExtensionHeader: Sendable, Hashable, Encodable {
    public enum Kind: String, Sendable, Hashable, Encodable {
        case hopByHop, destinationOptions, routing, fragment
    }
    public var kind: Kind
    public var nextHeader: UInt8
    public var length: Int
    /// Fragment header only: the offset in bytes and the length of this fragment's data.
    public var fragmentOffset: Int?
    public var fragmentLength: Int?
    /// Routing header: tcpdump's words for it (`RT6 (len=2, type=0 [Deprecated], ...) `);
    /// hop-by-hop and destination options with -v: the options (`(rtalert: 0x0000) (padn) `).
    public var text: String? = nil
    /// Fragment header with -v: the identification.
    public var identification: UInt32? = nil
}

public struct TCPSegment: Sendable, Hashable, Encodable {
    /// Nil when the packet ends before the ports.
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    public var sequence: UInt32
    public var acknowledgment: UInt32
    /// FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80.
    public var flags: UInt8
    public var window: UInt16
    public var urgentPointer: UInt16
    public var headerLength: Int
    public var options: [TCPOption]
    /// Options could not be read to the end: tcpdump's `[bad opt]`.
    public var badOptions: Bool
    /// The captured bytes end inside the options.
    public var optionsTruncated: Bool
    public var payloadLength: Int
    /// Something wrong with the header, printed in place of the details.
    public var problem: String?
    /// -v: the checksum, when the whole segment was captured and is not a fragment.
    public var checksum: ChecksumCheck?
    /// -v: the payload of a reset (tcpdump prints it as text), and whether all was captured.
    public var resetData: [UInt8]?
    public var resetDataComplete = false
}

public struct TCPOption: Sendable, Hashable, Encodable {
    public var kind: UInt8
    /// The option's length byte (1 for `eol` and `nop`, which have none).
    public var length: Int
    public var data: [UInt8]
    /// False when the option's data runs past the header or the captured bytes; `data`
    /// then holds what could be read.
    public var complete: Bool
}

public struct UDPDatagram: Sendable, Hashable, Encodable {
    /// Nil when the packet ends before the ports.
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    /// The UDP length field less the 8-byte header.
    public var payloadLength: Int
    /// Payload bytes the IP layer says are there.
    public var availableLength: Int
    public var problem: String?
    /// The length field claims more than the IP layer holds, and this is no fragment:
    /// tcpdump's `bad length`, which DNS's printer does not say but -q does.
    public var lengthExceedsPacket = false
    /// -v over IPv6, -vv over IPv4: the checksum, when the datagram was captured whole.
    public var checksum: ChecksumCheck?
    /// -vv over IPv4: the sender left the checksum out (0).
    public var checksumAbsent = false
}

/// An SCTP packet: its ports, the type of each chunk, and tcpdump's words for the chunks
/// (`sctp (1) [INIT] [init tag: 1] ...`).
public struct SCTPPacket: Sendable, Hashable, Encodable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var chunkTypes: [UInt8]
    public var text: String
}

/// A DCCP packet: its ports, type (0 Request to 9 SyncAck) and tcpdump's words for it
/// (`DCCP DCCP-Response (service=0) (ack=38464816766) `).
public struct DCCPPacket: Sendable, Hashable, Encodable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var type: UInt8
    public var text: String
    /// The header length in bytes (the data offset field's words) and the packet's length,
    /// which tcpdump -q prints the difference of.
    public var dataOffset = 0
    public var length = 0
}

/// An IGMP message: its type and tcpdump's words for it (`igmp v2 report 224.0.0.251`).
public struct IGMPMessage: Sendable, Hashable, Encodable {
    public var type: UInt8
    public var text: String
}

/// A GRE header: its version, the EtherType of what it carries, and tcpdump's words for it
/// (`GREv0, key=0x1, length 88: `).
public struct GREPacket: Sendable, Hashable, Encodable {
    public var version: UInt8
    public var protocolType: UInt16
    public var text: String
}

/// A VRRP message: its version, type and tcpdump's words for it
/// (`VRRPv2, Advertisement, vrid 42, prio 191, authtype simple, intvl 10s, length 28`).
public struct VRRPMessage: Sendable, Hashable, Encodable {
    public var version: UInt8
    public var type: UInt8
    public var text: String
}

/// An EIGRP packet: its version, opcode and tcpdump's words for it (`EIGRP Hello, length: 40`).
public struct EIGRPMessage: Sendable, Hashable, Encodable {
    public var version: UInt8
    public var opcode: UInt8
    public var text: String
}

/// ICMP and ICMPv6: the type and code, and the message in tcpdump's words
/// (`echo request, id 1, seq 2`).
public struct ICMPMessage: Sendable, Hashable, Encodable {
    public var type: UInt8
    public var code: UInt8
    public var text: String
    public var length: Int
    /// -v: the checksum, when the message was captured whole and is not a fragment.
    public var checksum: ChecksumCheck?
    /// -v: what tcpdump prints after the message on lines of its own (the packet an error
    /// quotes, neighbor discovery options).
    public var details: String?
    /// -v, ICMP errors: the IP packet the message quotes.
    public var quoted: PacketSummary?
}

public struct DNSMessage: Sendable, Hashable, Encodable {
    public var id: UInt16
    public var flags: UInt16
    public var isResponse: Bool
    public var opcode: Int
    /// With the extended bits of an OPT record, when there is one.
    public var responseCode: Int
    public var questionCount: Int
    public var answerCount: Int
    public var authorityCount: Int
    public var additionalCount: Int
    /// A query's questions; a response's with -vv.
    public var questions: [DNSQuestion]
    /// Questions a response's line steps over (tcpdump prints a comma between them), or
    /// with -vv the ones it starts to print (`q:`).
    public var questionsSkipped: Int
    /// Whether a response's questions were all there to step over, so that its section
    /// counts print (`1/0/0`), as tcpdump prints them only then.
    public var questionsComplete = false
    /// A response's answers; a query's too with -vv.
    public var answers: [DNSRecord]
    /// -vv: the authority and additional sections.
    public var authorities: [DNSRecord] = []
    public var additionals: [DNSRecord] = []
    /// The message length (without TCP's 2-byte prefix).
    public var length: Int
    public var overTCP: Bool
    /// Something wrong in the message, printed in place of its body.
    public var problem: String?
    /// mDNS: a class's top bit asks for a unicast reply (questions) or flushes caches (answers).
    public var multicast: Bool = false
}

public struct DNSQuestion: Sendable, Hashable, Encodable {
    public var name: String
    public var type: UInt16
    public var recordClass: UInt16
}

public struct DNSRecord: Sendable, Hashable, Encodable {
    /// Nil when the packet ends before the record's fixed fields.
    public var type: UInt16?
    public var recordClass: UInt16
    /// The record data as tcpdump prints it (`192.0.2.1`, `mail.example. 10`); empty for
    /// types it only names.
    public var data: String
    /// -v: the owner name, as far as it could be read.
    public var name: String? = nil
    /// -vvv: the time to live in seconds (not for OPT, whose field holds flags).
    public var timeToLive: UInt32? = nil
}
