import PacketCapture
import Testing

/// What a packet's line says in place of numbers when names are asked for, from a table
/// (the corpus test in CaptureNamesTests compares this machine's names with tcpdump's).
@Suite struct PrintedNamesTests {
    struct Table: PacketNameSource {
        func hostName(_ address: IPAddress) -> String? { address.description == "192.0.2.1" ? "web.example.com" : nil }
        func serviceName(_ port: UInt16, _ transport: ServiceTransport) -> String? {
            port == 4000 ? "alpha" : port == 9 && transport == .udp ? "discard" : nil
        }
        func ethernetHostName(_ address: [UInt8]) -> String? { address == [2, 0, 0, 0, 0, 1] ? "router" : nil }
    }

    static let frame: [UInt8] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x10, 0x18, 0xde, 0x38, 0x1e, 0x08, 0x00,
        0x45, 0, 0, 29, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
        0x0f, 0xa0, 0, 9, 0, 9, 0, 0, 0x41,
    ]

    func line(_ frame: [UInt8], names: PrintedNames?) -> String {
        var printer = PacketPrinter(linkHeaders: true, names: names)
        return printer.line(PacketDecoder.decode(frame, originalLength: frame.count, linkType: .ethernet, names: names), frameLength: frame.count)
    }

    @Test func hostsPortsAndEthernetAddresses() {
        #expect(line(Self.frame, names: PrintedNames(Table()))
            == "00:10:18:de:38:1e (oui Broadcom) > Broadcast, ethertype IPv4 (0x0800), length 43: web.example.com.alpha > 192.0.2.2.discard: UDP, length 1")
        #expect(line(Self.frame, names: PrintedNames(Table(), shortHostNames: true)).contains(": web.alpha > 192.0.2.2.discard:"))
        #expect(line(Self.frame, names: nil)
            == "00:10:18:de:38:1e > ff:ff:ff:ff:ff:ff, ethertype IPv4 (0x0800), length 43: 192.0.2.1.4000 > 192.0.2.2.9: UDP, length 1")
        // The ethers file's name comes first; an OUI tcpdump does not list is Unknown.
        var named = Self.frame
        named.replaceSubrange(0..<12, with: [2, 0, 0, 0, 0, 1, 0x00, 0x00, 0x0c, 1, 2, 3])
        #expect(line(named, names: PrintedNames(Table())).hasPrefix("00:00:0c:01:02:03 (oui Cisco) > router, "))
        named[6] = 0x52
        #expect(line(named, names: PrintedNames(Table())).hasPrefix("52:00:0c:01:02:03 (oui Unknown) > router, "))
    }

    /// -f: addresses outside the local network print as numbers, sparing their lookups.
    @Test func foreignAddressesAsNumbers() {
        let outside = PrintedNames(Table(), localNetwork: (network: 0x0a00_0000, mask: 0xff00_0000))
        #expect(line(Self.frame, names: outside).contains(": 192.0.2.1.alpha > 192.0.2.2.discard:"))
        let inside = PrintedNames(Table(), localNetwork: (network: 0xc000_0200, mask: 0xffff_ff00))
        #expect(line(Self.frame, names: inside).contains(": web.example.com.alpha > 192.0.2.2.discard:"))
    }

    /// An IP protocol with no dissector prints by IANA's keyword, as tcpdump's table has it,
    /// and so does a later fragment's.
    @Test(arguments: [(UInt8(106), "qnx"), (54, "narp"), (61, "ip-proto-61"), (142, "rohc"), (144, "ip-proto-144"), (253, "exptest-253"), (255, "reserved")])
    func protocolKeywords(number: UInt8, name: String) {
        var frame = Self.frame
        frame[23] = number
        #expect(line(frame, names: PrintedNames(Table())).hasSuffix(":  \(name) 9"))
        frame[21] = 1
        #expect(line(frame, names: PrintedNames(Table())).hasSuffix(": \(name)"))
        #expect(line(frame, names: nil).hasSuffix(": ip-proto-\(number)"))
    }
}

#if os(Linux)
import Foundation

/// An ethers file is read as glibc reads it, which tcpdump and libpcap use: a line whose
/// address is not six hex bytes names nothing, in a packet's line or a filter.
@Suite struct EthersFileTests {
    @Test func malformedLinesNameNothing() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-ethers-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
            00:1f:29:da:2d:79:zz bogus
            00:1f:29:da:2d bogus2
            0:1f:29:da:2d:179 bogus3
            # a comment
            0:1f:29:da:2d:7a\tgood # and a comment
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let names = SystemPacketNames(ethersPath: path), resolver = SystemNameResolver(ethersPath: path)
        for bogus in ["bogus", "bogus2", "bogus3"] { #expect(resolver.ethernetAddress(ofHost: bogus) == nil, "\(bogus)") }
        #expect(names.ethernetHostName([0x00, 0x1f, 0x29, 0xda, 0x2d, 0x79]) == nil)
        #expect(names.ethernetHostName([0x00, 0x1f, 0x29, 0xda, 0x2d, 0x7a]) == "good")
        #expect(resolver.ethernetAddress(ofHost: "good") == [0x00, 0x1f, 0x29, 0xda, 0x2d, 0x7a])
    }
}
#endif
