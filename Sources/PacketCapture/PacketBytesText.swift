/// A packet's bytes as text, the way tcpdump's -x, -X and -A print them under its line:
/// each hex line is a tab, the offset and up to sixteen bytes in pairs; -X adds the
/// printable characters; -A prints the bytes as text, with `.` for what cannot be shown.
public enum PacketBytesText {
    public enum Style: Sendable, Equatable {
        /// -x: hex only.
        case hex
        /// -X: hex and the printable characters beside it.
        case hexAndASCII
        /// -A: the bytes as text.
        case ascii
    }

    /// The text that follows a packet's line: each part starts with a line break, so it
    /// goes straight after the line, and none ends with one.
    public static func text(_ bytes: some Collection<UInt8>, style: Style) -> String {
        switch style {
        case .hex: hexLines(Array(bytes), ascii: false)
        case .hexAndASCII: hexLines(Array(bytes), ascii: true)
        case .ascii: "\n" + asciiText(bytes)
        }
    }

    static let digits = Array("0123456789abcdef".utf8)

    /// `prefix` starts each line: a line break and a tab for -x; tcpdump's printers that
    /// dump what they do not dissect indent further (`\n\t    `).
    static func hexLines(_ bytes: [UInt8], ascii: Bool, prefix: String = "\n\t") -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 16 * 68 + 68)
        var offset = 0
        while offset < bytes.count {
            let line = bytes[offset..<min(offset + 16, bytes.count)]
            out += Array((prefix + "0x").utf8)
            // At least four hex digits, more for offsets past 0xffff.
            let width = max(4, (String(offset, radix: 16).utf8.count))
            for shift in stride(from: (width - 1) * 4, through: 0, by: -4) {
                out.append(digits[(offset >> shift) & 0xf])
            }
            out += [UInt8(ascii: ":"), UInt8(ascii: " ")]
            for (position, byte) in line.enumerated() {
                if position % 2 == 0 { out.append(UInt8(ascii: " ")) }
                out += [digits[Int(byte >> 4)], digits[Int(byte & 0xf)]]
            }
            if ascii {
                // The hex column is padded to sixteen bytes' width, then two spaces.
                let written = line.count * 2 + (line.count + 1) / 2
                out += Array(repeating: UInt8(ascii: " "), count: 40 - written + 2)
                for byte in line { out.append(isGraphic(byte) ? byte : UInt8(ascii: ".")) }
            }
            offset += 16
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Printable characters, tabs, spaces and line breaks as they are; a carriage return
    /// that ends a line is left out, as tcpdump does; anything else is `.`.
    static func asciiText(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            bytes.formIndex(after: &index)
            if byte == UInt8(ascii: "\r") {
                if index == bytes.endIndex || bytes[index] != UInt8(ascii: "\n") { out.append(UInt8(ascii: ".")) }
            } else if isGraphic(byte) || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "."))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isGraphic(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7f }

    /// How many bytes of the packet are its link-layer header, which -x, -X and -A leave
    /// out (and -xx, -XX and -AA keep): the Ethernet header with its VLAN tags and any
    /// 802.2 LLC/SNAP header, the cooked, loopback or Cisco HDLC header; never more than
    /// the packet.
    public static func linkHeaderLength(_ bytes: [UInt8], linkType: LinkType) -> Int {
        let length: Int
        switch linkType {
        case .ethernet: length = ethernetHeaderLength(bytes)
        case .linuxSLL: length = 16
        case .linuxSLL2: length = 20
        case .null, .loop, .cHDLC: length = 4
        default: length = 0
        }
        return min(length, bytes.count)
    }

    static func ethernetHeaderLength(_ bytes: [UInt8]) -> Int {
        var offset = 12
        func type() -> Int? { offset + 2 <= bytes.count ? Int(bytes[offset]) << 8 | Int(bytes[offset + 1]) : nil }
        while let tag = type(), tag == 0x8100 || tag == 0x88a8 || tag == 0x9100 { offset += 4 }
        guard let etherType = type() else { return bytes.count }
        offset += 2
        guard etherType <= 1500 else { return offset }
        // 802.3: the LLC header (two control bytes for I and S frames), then SNAP's five.
        guard offset + 3 <= bytes.count else { return offset }
        if bytes[offset] == 0xaa, bytes[offset + 1] == 0xaa, bytes[offset + 2] == 0x03 { return offset + 8 }
        return offset + (bytes[offset + 2] & 0x03 == 0x03 ? 3 : 4)
    }
}
