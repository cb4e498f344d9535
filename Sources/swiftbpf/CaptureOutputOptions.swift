import ArgumentParser
import PacketCapture

/// tcpdump's options that shape what `capture` prints or saves for each packet.
struct CaptureOutputOptions: ParsableArguments {
    enum Precision: String, ExpressibleByArgument, CaseIterable {
        case micro, nano
    }

    @Flag(name: .customShort("n"), help: "Print addresses, ports and protocols as numbers, not names.")
    var numeric = false
    @Flag(name: .customShort("N"), help: "Print host names without their domain (host, not host.example.com).")
    var shortHostNames = false
    @Flag(name: .customShort("f"), help: "On a live capture, print the IPv4 addresses outside the interface's network as numbers, sparing their lookups (as tcpdump -f).")
    var foreignNumeric = false
    @Flag(name: .customShort("x"), help: "Print each packet's bytes in hex under its line, without the link-layer header; -xx with it.")
    var hex: Int
    @Flag(name: .customShort("X"), help: "As -x, with the printable characters beside the hex; -XX with the link-layer header.")
    var hexAndASCII: Int
    @Flag(name: .customShort("A"), help: "Print each packet's bytes as text (. for what cannot be shown), without the link-layer header; -AA with it.")
    var ascii: Int
    @Flag(name: [.customShort("#"), .customLong("number")], help: "Number the packets, before each line's timestamp.")
    var number = false
    @Flag(name: .customShort("e"), help: "Start each line with the link-layer header: addresses, type and frame length.")
    var linkHeaders = false
    @Flag(name: .customShort("q"), help: "Quick: TCP and UDP lines end with the payload's length, whatever it carries.")
    var quick = false
    @Flag(name: .customShort("v"), help: ArgumentHelp(
        "Verbose: IP header fields (tos, ttl, id, flags, options), TCP, UDP and ICMP checksums and each protocol's details, as tcpdump -v; -vv also checks UDP checksums over IPv4 and prints what tcpdump -vv adds: every DNS section with EDNS options, SCTP chunks one a line with M3UA, DCCP options, IGMPv3 and MLDv2 source lists, neighbor discovery options in hex; -vvv adds DNS times to live. ForCES is not decoded.",
        discussion: "As tcpdump -v, an IPv4 packet's line breaks after its header, and the rest follows indented by 4 spaces."))
    var verbosity: Int
    @Flag(name: [.customShort("K"), .customLong("dont-verify-checksums")], help: "With -v, do not check the IPv4 header's, TCP's and UDP's checksums (as tcpdump -K, for packets a NIC will checksum).")
    var skipsChecksums = false
    @Flag(name: [.customShort("S"), .customLong("absolute-tcp-sequence-numbers")], help: "Print TCP sequence numbers as they are, not relative to the connection's first.")
    var absoluteSequenceNumbers = false
    @Option(name: .customLong("time-stamp-precision"), help: ArgumentHelp("Print timestamps to the microsecond or the nanosecond, and save -w files with that precision.", valueName: "micro|nano"))
    var precisionOption: Precision?
    @Flag(help: "Same as --time-stamp-precision nano.")
    var nano = false
    @Flag(help: "Same as --time-stamp-precision micro.")
    var micro = false
    @Flag(name: .customShort("l"), help: "Write each packet's line as it comes (line-buffered), for a pipe into grep or tee.")
    var lineBuffered = false
    @Flag(name: [.customShort("U"), .customLong("packet-buffered")], help: "With -w, write each packet to the file as it comes, not in blocks.")
    var packetBuffered = false
    @Flag(name: .customLong("print"), help: "With -w, also print each packet's line.")
    var printWhileWriting = false
    @Flag(help: "With -r, print only how many packets match, not the packets.")
    var count = false

    func validate() throws {
        if verbosity > 3 { throw ValidationError("-v may be given at most three times (-vvv)") }
        if max(hex, hexAndASCII, ascii) > 2 { throw ValidationError("-x, -X and -A may each be given at most twice") }
        if [precisionOption != nil, nano, micro].filter({ $0 }).count > 1 {
            throw ValidationError("give one of --time-stamp-precision, --nano and --micro")
        }
    }

    var nanosecondTimestamps: Bool { nano || precisionOption == .nano }

    /// What to print under each line, and whether the link-layer header is part of it; -X
    /// wins over -x and -x over -A, as in tcpdump.
    var dump: PacketDump? {
        if hexAndASCII > 0 { return PacketDump(style: .hexAndASCII, withLinkHeader: hexAndASCII > 1) }
        if hex > 0 { return PacketDump(style: .hex, withLinkHeader: hex > 1) }
        if ascii > 0 { return PacketDump(style: .ascii, withLinkHeader: ascii > 1) }
        return nil
    }
}

struct PacketDump {
    var style: PacketBytesText.Style
    var withLinkHeader: Bool

    /// The protocols whose tcpdump printer, when the captured bytes run out, gives up the
    /// whole packet (`[|arp]`), so that tcpdump prints it whole, link header and all; its
    /// other printers stop where they are and keep the header out.
    static let printersThatGiveUpThePacket: Set = ["arp", "hsrp", "ssh"]

    /// The text under a packet's line; nothing when the packet has no bytes past its
    /// link-layer header and that header is left out.
    func text(_ bytes: [UInt8], linkType: LinkType, summary: PacketSummary) -> String {
        let whole = withLinkHeader || summary.truncatedIn.map(Self.printersThatGiveUpThePacket.contains) == true
        let start = whole ? 0 : PacketBytesText.linkHeaderLength(bytes, linkType: linkType)
        guard start < bytes.count else { return "" }
        return PacketBytesText.text(bytes[start...], style: style)
    }
}
