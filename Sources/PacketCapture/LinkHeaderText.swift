/// The link-layer header as tcpdump -e prints it before the rest of a packet's line: the
/// addresses, the type by name and number, and the frame's length.
extension PacketPrinter {
    /// `00:11:22:33:44:55 > 66:77:88:99:aa:bb, ethertype IPv4 (0x0800), length 98: `, or
    /// `802.3` in place of the type for a frame that gives its length; quick, the type's
    /// name alone (`IPv4`, `Unknown Ethertype (0x3030)`).
    static func ethernetHeaderText(_ header: EthernetHeader, frameLength: Int, quick: Bool = false, names: PrintedNames? = nil) -> String {
        let type = header.etherType <= 1500 ? "802.3"
            : quick ? EtherTypes.names[header.etherType] ?? "Unknown Ethertype (0x\(hex(header.etherType, width: 4)))"
            : etherTypeText(header.etherType)
        let source = names?.ethernet(header.source) ?? header.source.description
        let destination = names?.ethernet(header.destination) ?? header.destination.description
        return "\(source) > \(destination), \(type), length \(frameLength): "
    }

    /// `vlan 10, p 0, ethertype IPv4 (0x0800), `: a tag and the type after it (`IPv4` alone
    /// when quick).
    static func vlanTagText(_ tag: VLANTag, quick: Bool = false) -> String {
        "vlan \(tag.id), p \(tag.priority), " + (tag.dropEligible ? "DEI, " : "")
            + (quick ? EtherTypes.name(tag.etherType) : etherTypeText(tag.etherType)) + ", "
    }

    /// What a Linux cooked v2 header adds to every line, -e or not: the interface's name
    /// (its index when names are not known) and the packet type (`lo    In  `); nothing for v1.
    func cookedInterfaceText(_ header: LinuxCookedHeader) -> String {
        guard let interfaceIndex = header.interfaceIndex else { return "" }
        let name = interfaceNames.map { padded($0[interfaceIndex] ?? "?", 5) } ?? "ifindex \(interfaceIndex)"
        return name + " " + padded(Self.packetTypeNames[header.packetType] ?? "?", 3) + " "
    }

    /// A Linux cooked header under -e: for v2 what `cookedInterfaceText` prints and
    /// `ifindex N`, for v1 the packet type in three places (` In`); then the sender's
    /// address when it is a MAC address, the type and the frame's length.
    func cookedHeaderText(_ header: LinuxCookedHeader, frameLength: Int) -> String {
        var text: String
        if let interfaceIndex = header.interfaceIndex {
            text = cookedInterfaceText(header) + "ifindex \(interfaceIndex) "
        } else {
            let type = Self.packetTypeNames[header.packetType] ?? "?"
            text = String(repeating: " ", count: max(0, 3 - type.count)) + type + " "
        }
        if header.address.count == 6 {
            let address = MACAddress(header.address)
            text += (names?.ethernet(address) ?? address.description) + " "
        }
        return text + (header.etherType > 1500 ? Self.etherTypeText(header.etherType) + ", " : "") + "length \(frameLength): "
    }

    /// Cisco HDLC: `unicast, ethertype IPv4 (0x0800), length 104: `.
    static func ciscoHDLCHeaderText(address: UInt8, protocolType: UInt16, frameLength: Int) -> String {
        let cast = switch address {
        case 0x0f: "unicast"
        case 0x8f: "bcast"
        default: "0x" + hex(address, width: 2)
        }
        return "\(cast), \(etherTypeText(protocolType)), length \(frameLength): "
    }

    /// A GRE header's words with the type of what it carries before its length, as tcpdump
    /// -e adds it (`GREv0, key=0x28, proto IPv4 (0x0800), length 44: `).
    static func withProtocol(_ packet: GREPacket) -> String {
        guard let length = packet.text.firstRange(of: ", length ") else { return packet.text }
        let proto = ", proto \(EtherTypes.names[packet.protocolType] ?? "unknown") (0x\(hex(packet.protocolType, width: 4)))"
        return packet.text[..<length.lowerBound] + proto + packet.text[length.lowerBound...]
    }

    /// BSD loopback: `AF IPv4 (2), length 88: `, or `IPv4, length 88: ` when quick.
    static func loopbackHeaderText(family: UInt32, frameLength: Int, quick: Bool = false) -> String {
        let name = switch family {
        case 2: "IPv4"
        case 24, 28, 30: "IPv6"
        case 7: "OSI"
        case 16: "Appletalk"
        case 23: "IPX"
        default: "Unknown"
        }
        return (quick ? name : "AF \(name) (\(family))") + ", length \(frameLength): "
    }

    static func etherTypeText(_ type: UInt16) -> String {
        "ethertype \(EtherTypes.name(type)) (0x\(hex(type, width: 4)))"
    }
}
