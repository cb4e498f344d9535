/// ICMPv6 node information queries and replies (RFC 4620) as tcpdump prints them after the
/// type's name: the query type with its flags and the subject (an IPv6 or IPv4 address or
/// a DNS name), or the reply's status and data (a DNS name, node addresses with their
/// times to live). tcpdump judges lengths by the captured bytes (`end`), and -v adds the
/// success status and length complaints.
extension PacketDecoding {
    func nodeInformation(_ type: UInt8, _ code: UInt8, at offset: Int, length: Int) -> ICMPv6Details {
        let captured = end - offset
        if type == 139 && captured == 12 {
            // KAME's who-are-you: the header and a 4-byte nonce only.
            return .text(" who-are-you request")
        }
        // tcpdump marks a message cut short (a reply: cut at all) and goes on; the query's
        // name comes before the check, the reply's after it.
        let query = type == 139
        if !query && length > captured { return .text(" [|icmp6]") }
        guard has(offset, 16), let queryType = u16(offset + 4), let flags = u16(offset + 6) else {
            return .text((query ? " node information query" : "") + " [|icmp6]")
        }
        return query
            ? nodeInformationQuery(code, queryType, flags, at: offset, text: " node information query (")
            : nodeInformationReply(code, queryType, flags, at: offset, text: " node information reply (")
    }

    func nodeInformationQuery(_ code: UInt8, _ queryType: UInt16, _ flags: UInt16, at offset: Int, text: String) -> ICMPv6Details {
        let captured = end - offset
        var text = text
        switch queryType {
        case 0: text += "noop"
        case 1: text += "supported qtypes" + (flags != 0 ? " [\(flags & 1 != 0 ? "C" : "")]" : "")
        case 2: text += "DNS name"
        case 3: text += "node addresses" + (flags != 0 ? " [" + Self.nodeAddressFlags(flags & 0x7e) + "]" : "")
        default: text += "unknown"
        }
        if queryType <= 1 { return .text(text + (captured != 16 && verbosity > 0 ? ", invalid len" : "") + ")") }
        // A query with no subject is the form of icmp-name-lookup draft 03.
        if captured == 16 { return .text(text + ", 03 draft)") }
        let subject = offset + 16
        switch code {
        case 0, 2:
            let size = code == 0 ? 16 : 4
            guard has(offset, 16 + size), let address = bytes(subject, size), let v4 = u32(subject) else { break }
            guard captured == 16 + size else {
                if verbosity > 0 { text += ", invalid subject len" }
                break
            }
            text += ", subject=" + host(code == 0 ? .v6(IPv6Address(address)) : .v4(IPv4Address(v4)))
        case 1:
            text += ", subject=DNS name"
            guard let name = nodeInformationName(at: subject) else { return .truncated(text) }
            text += name
        default:
            text += ", unknown subject"
        }
        return .text(text + ")")
    }

    func nodeInformationReply(_ code: UInt8, _ queryType: UInt16, _ flags: UInt16, at offset: Int, text: String) -> ICMPv6Details {
        let captured = end - offset
        var text = text
        switch code {
        case 0 where verbosity > 0: text += "success"
        case 1, 2:
            text += code == 1 ? "refused" : "unknown"
            if captured != 16 && verbosity > 0 { text += ", invalid length" }
        default: break
        }
        guard code == 0 else { return .text(text + ")") }
        if verbosity > 0 { text += ", " }
        switch queryType {
        case 0:
            text += "noop" + (captured != 16 && verbosity > 0 ? ", invalid length" : "")
        case 1:
            text += "supported qtypes" + (flags != 0 ? " [\(flags & 1 != 0 ? "C" : "")]" : "")
        case 2:
            text += "DNS name"
            // The name follows a 4-byte time to live.
            guard let name = nodeInformationName(at: offset + 20), let ttl = u32(offset + 16) else { return .truncated(text) }
            text += name
            if flags & 1 != 0 { text += " [TTL=\(ttl)]" }
        case 3:
            text += "node addresses"
            // Each address follows its 4-byte time to live; a partial one is left out.
            var entry = offset + 16
            while has(entry, 20), let ttl = u32(entry), let address = bytes(entry + 4, 16) {
                text += " \(host(.v6(IPv6Address(address))))(\(ttl))"
                entry += 20
            }
            if flags != 0 { text += " [" + Self.nodeAddressFlags(flags) + "]" }
        default:
            text += "unknown"
        }
        return .text(text + ")")
    }

    /// Which addresses a node addresses query asks for or a reply holds: anycast (not in the
    /// RFC), global, site-local, link-local, IPv4-compatible, all interfaces, truncated.
    static func nodeAddressFlags(_ flags: UInt16) -> String {
        zip([UInt16(0x40), 0x20, 0x10, 0x08, 0x04, 0x02, 0x01], ["a", "G", "S", "L", "C", "A", "T"])
            .filter { flags & $0.0 != 0 }.map(\.1).joined()
    }

    /// A DNS name in a query's subject or a reply's data, to the end of the captured bytes:
    /// a single length byte that covers the rest is draft 03's Pascal string; otherwise
    /// labels, uncompressed, with `???` where they do not fit. Nil when `start` was not
    /// captured.
    func nodeInformationName(at start: Int) -> String? {
        guard let first = u8(start) else { return nil }
        if Int(first) == end - start - 1 {
            let characters = (bytes(start + 1, Int(first)) ?? []).map(printableCharacter).joined()
            return (verbosity > 0 ? ", 03 draft" : "") + ", \"" + characters + "\""
        }
        var text = ", \""
        var cursor = start
        while cursor < end, let labelLength = u8(cursor).map(Int.init) {
            cursor += 1
            guard labelLength != 0 else {
                // A zero at the end closes a fully qualified name, two zeros there one
                // that is not; a zero anywhere else is wrong.
                if cursor == end {
                    text += "."
                } else if cursor + 1 != end || u8(cursor) != 0 {
                    text += "???"
                }
                break
            }
            guard labelLength <= end - cursor, let label = bytes(cursor, labelLength) else {
                text += "???"
                break
            }
            text += label.map(printableCharacter).joined()
            cursor += labelLength
            if cursor + 1 < end, u8(cursor) != 0 { text += "." }
        }
        return text + "\""
    }
}
