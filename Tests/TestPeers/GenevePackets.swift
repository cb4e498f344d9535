/// Geneve packets for the filter tests (RFC 8926): outer IPv4 (with and without options) and
/// IPv6 to UDP port 6081, Geneve headers with options of several lengths, and what they
/// carry, inner Ethernet frames and bare IP payloads; plus a few near misses.
public enum GenevePackets {
    public static func ipv4(_ protocolNumber: UInt8, _ payload: [UInt8], source: UInt8 = 1, options: Int = 0) -> [UInt8] {
        let total = 20 + options * 4 + payload.count
        return [UInt8(0x45 + options), 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 1, 0, 0, 64, protocolNumber, 0, 0,
                10, 0, 0, source, 10, 0, 0, 9] + [UInt8](repeating: 1, count: options * 4) + payload
    }

    public static func ipv6(_ next: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let address = [0xfd] + [UInt8](repeating: 0, count: 14)
        return [0x60, 0, 0, 0, UInt8(payload.count >> 8), UInt8(payload.count & 0xff), next, 64] + address + [2] + address + [1] + payload
    }

    public static func udp(_ port: UInt16, _ payload: [UInt8] = [1, 2, 3, 4]) -> [UInt8] {
        let length = 8 + payload.count
        return [0x0f, 0xa0, UInt8(port >> 8), UInt8(port & 0xff), UInt8(length >> 8), UInt8(length & 0xff), 0, 0] + payload
    }

    public static func tcp(_ port: UInt16, flags: UInt8 = 0x02) -> [UInt8] {
        [0x0f, 0xa0, UInt8(port >> 8), UInt8(port & 0xff), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]
    }

    public static func ethernet(_ type: UInt16, _ payload: [UInt8], tag: UInt16? = nil) -> [UInt8] {
        let addresses: [UInt8] = [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2]
        let vlan: [UInt8] = tag.map { [0x81, 0x00, UInt8($0 >> 8), UInt8($0 & 0xff)] } ?? []
        return addresses + vlan + [UInt8(type >> 8), UInt8(type & 0xff)] + payload
    }

    /// A Geneve header (version `version`, `optionWords` 4-byte words of options) and `payload`.
    public static func geneve(_ protocolType: UInt16, vni: UInt32, optionWords: Int, version: UInt8 = 0, _ payload: [UInt8]) -> [UInt8] {
        [version << 6 | UInt8(optionWords), 0, UInt8(protocolType >> 8), UInt8(protocolType & 0xff),
         UInt8(vni >> 16 & 0xff), UInt8(vni >> 8 & 0xff), UInt8(vni & 0xff), 0]
            + [UInt8](repeating: 0xee, count: optionWords * 4) + payload
    }

    /// What Geneve carries: inner Ethernet frames and bare IP payloads.
    public static let inners: [(protocolType: UInt16, bytes: [UInt8])] = [
        (0x6558, ethernet(0x0800, ipv4(6, tcp(80)))),
        (0x6558, ethernet(0x0800, ipv4(17, udp(53), source: 2))),
        (0x6558, ethernet(0x0800, ipv4(1, [8, 0, 0, 0, 0, 1, 0, 1]))),
        (0x6558, ethernet(0x86dd, ipv6(17, udp(53)))),
        (0x6558, ethernet(0x86dd, ipv6(6, tcp(80, flags: 0x10)))),
        (0x6558, ethernet(0x0806, [0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 2, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 9])),
        (0x6558, ethernet(0x0800, ipv4(6, tcp(70)), tag: 5)),
        (0x6558, ethernet(0x8847, [0, 0x01, 0x01, 64] + ipv4(17, udp(53)))),
        (0x6558, ethernet(0x0026, [0x42, 0x42, 0x03, 0, 0, 0])),
        (0x0800, ipv4(6, tcp(80))),
        (0x0800, ipv4(17, udp(53), source: 2)),
        (0x86dd, ipv6(6, tcp(80))),
        (0x8137, [0xff, 0xff, 0, 30]),
        // Geneve in Geneve.
        (0x6558, ethernet(0x0800, ipv4(17, udp(6081, geneve(0x6558, vni: 5, optionWords: 1, ethernet(0x0800, ipv4(6, tcp(80)))))))),
        (0x0800, ipv4(17, udp(6081, geneve(0x0800, vni: 7, optionWords: 0, ipv4(17, udp(53)))))),
        (0x6558, ethernet(0x86dd, ipv6(17, udp(6081, geneve(0x86dd, vni: 5, optionWords: 2, ipv6(6, tcp(80))))))),
        // A VLAN tag in the second level, and a third level.
        (0x6558, ethernet(0x0800, ipv4(17, udp(6081, geneve(0x6558, vni: 5, optionWords: 1, ethernet(0x0800, ipv4(6, tcp(80)), tag: 5)))))),
        (0x0800, ipv4(17, udp(6081, geneve(0x6558, vni: 7, optionWords: 1,
                                           ethernet(0x0800, ipv4(17, udp(6081, geneve(0x0800, vni: 5, optionWords: 0, ipv4(6, tcp(80)))))))))),
    ]

    /// The outer IP packets to UDP port 6081 (and a few near misses), without a link header.
    public static let outerPackets: [[UInt8]] = {
        var packets: [[UInt8]] = []
        for (index, inner) in inners.enumerated() {
            for optionWords in [0, 1, 3, 8] {
                let vni: UInt32 = index % 2 == 0 ? 5 : 7
                let header = geneve(inner.protocolType, vni: vni, optionWords: optionWords, inner.bytes)
                packets.append(ipv4(17, udp(6081, header), options: optionWords % 2))
                packets.append(ipv6(17, udp(6081, header)))
            }
        }
        let sample = geneve(0x6558, vni: 5, optionWords: 1, ethernet(0x0800, ipv4(6, tcp(80))))
        packets.append(ipv4(17, udp(6081, geneve(0x6558, vni: 5, optionWords: 1, version: 1, ethernet(0x0800, ipv4(6, tcp(80)))))))
        packets.append(ipv4(17, udp(6082, sample)))
        packets.append(ipv4(6, tcp(6081)))
        return packets
    }()
}
