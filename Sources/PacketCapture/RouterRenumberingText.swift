/// ICMPv6 router renumbering (RFC 2894) as tcpdump prints it: the code and sequence number;
/// with -v the flags, segment and delay; for a command, its match-prefix part and each
/// use-prefix part (-v: with their numbers; -vv: each on a line of its own).
extension PacketDecoding {
    func routerRenumbering(_ code: UInt8, at offset: Int) -> ICMPv6Details {
        guard has(offset, 16), let sequence = u32(offset + 4), let segment = u8(offset + 8), let flags = u8(offset + 9),
              let maximumDelay = u16(offset + 10), let reserved = u32(offset + 12)
        else { return .truncated("") }
        var text = [0: ", command", 1: ", result", 255: ", sequence number reset"][code] ?? ", code-#\(code)"
        text += ", seq=\(sequence)"
        if verbosity > 0 {
            let letters = zip([UInt8(0x80), 0x40, 0x20, 0x10, 0x08], ["T", "R", "A", "S", "P"]).filter { flags & $0.0 != 0 }.map(\.1).joined()
            text += "[" + (flags != 0 ? letters + "," : "") + "seg=\(segment),maxdelay=\(maximumDelay)"
            text += (reserved != 0 ? "rsvd=0x\(String(reserved, radix: 16))" : "") + "]"
        }
        guard code == 0 else { return .text(text) }
        let separator = verbosity > 1 ? "\n\t" : " "
        let match = offset + 16
        guard has(match, 24), let matchCode = u8(match), let matchLength = u8(match + 1), let prefix = bytes(match + 8, 16) else {
            return .truncated(text)
        }
        text += separator + "match(" + ([1: "add", 2: "change", 3: "setglobal"][matchCode] ?? "#\(matchCode)")
        if verbosity > 0 { text += ",ord=\(u8(match + 2) ?? 0),min=\(u8(match + 4) ?? 0),max=\(u8(match + 5) ?? 0)" }
        text += ",\(IPv6Address(prefix))/\(u8(match + 3) ?? 0))"
        // The match part's length counts 8-byte units: 3 of its own, 4 per use part.
        let units = Int(matchLength) - 3
        // tcpdump marks a count that is no whole number of use parts, and goes on.
        guard units % 4 == 0 else { return .text(text + " [|icmp6]") }
        var use = match + 24
        for _ in stride(from: 0, to: units / 4, by: 1) {
            guard has(use, 32), let useFlags = u8(use + 12), let usePrefix = bytes(use + 16, 16) else { return .truncated(text) }
            text += separator + "use("
            if useFlags != 0 { text += (useFlags & 0x80 != 0 ? "V" : "") + (useFlags & 0x40 != 0 ? "P" : "") + "," }
            if verbosity > 0 {
                let lifetime = { (value: UInt32) in value == .max ? "infty" : "\(value)" }
                text += "mask=0x\(String(u8(use + 2) ?? 0, radix: 16)),raflags=0x\(String(u8(use + 3) ?? 0, radix: 16)),"
                text += "vltime=\(lifetime(u32(use + 4) ?? 0)),pltime=\(lifetime(u32(use + 8) ?? 0)),"
            }
            text += "\(IPv6Address(usePrefix))/\(u8(use) ?? 0)/\(u8(use + 1) ?? 0))"
            use += 32
        }
        return .text(text)
    }
}
