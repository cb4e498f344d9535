/// DCCP (RFC 4340) as tcpdump prints it: the ports, the packet type, a Request's or
/// Response's service code, a Reset's code, and the acknowledgment number; with -v the
/// congestion control value and the checksum first; with -vv the sequence number and the
/// options last.
extension PacketDecoding {
    static let dccpTypeNames = [
        "DCCP-Request", "DCCP-Response", "DCCP-Data", "DCCP-Ack", "DCCP-DataAck", "DCCP-CloseReq", "DCCP-Close",
        "DCCP-Reset", "DCCP-Sync", "DCCP-SyncAck",
    ]
    static let dccpResetCodes = [
        "unspecified", "closed", "aborted", "no_connection", "packet_error", "option_error", "mandatory_error",
        "connection_refused", "bad_service_code", "too_busy", "bad_init_cookie", "aggression_penalty",
    ]

    mutating func dccp(at offset: Int, length: Int) {
        guard has(offset, 12) else { return truncated("dccp") }
        guard length >= 12 else { return note("truncated-dccp - \(12 - length) bytes missing!") }
        let extended = (u8(offset + 8) ?? 0) & 1 != 0
        var headerLength = extended ? 16 : 12
        guard length >= headerLength else { return note("truncated-dccp - \(headerLength - length) bytes missing!") }
        guard has(offset, headerLength), let sourcePort = u16(offset), let destinationPort = u16(offset + 2) else {
            return truncated("dccp")
        }
        let type = ((u8(offset + 8) ?? 0) >> 1) & 0x0f
        let name = type < Self.dccpTypeNames.count ? Self.dccpTypeNames[Int(type)] : ""
        var packet = DCCPPacket(sourcePort: sourcePort, destinationPort: destinationPort, type: type, text: "DCCP ")
        packet.dataOffset = Int(u8(offset + 4) ?? 0) * 4
        packet.length = length
        if verbosity > 0, let field = u8(offset + 5) {
            // -v: the congestion control value, the checksum's coverage and the checksum.
            let coverage = Int(field & 0x0f)
            packet.text = "DCCP (CCVal \(field >> 4), CsCov \(coverage)"
            let covered = coverage == 0 ? length : min(length, (Int(u8(offset + 4) ?? 0) + coverage - 1) * 4)
            if has(offset, length), let checksum = transportChecksum(at: offset, length: length, protocolNumber: 33, checksumAt: offset + 6, covering: covered) {
                packet.text += ", " + String(PacketPrinter.tcpChecksumText(checksum).dropFirst(2))
            }
            packet.text += ") "
        }
        // The fixed part each type adds after the generic header, and what it prints.
        let added: Int
        switch type {
        case 0: added = 4
        case 1, 7: added = 12
        case 2: added = 0
        case 3...6, 8, 9: added = 8
        default: added = 0
        }
        let fieldsAt = offset + headerLength
        headerLength += added
        guard length >= headerLength else {
            packet.text += "truncated-\(name) - \(headerLength - length) bytes missing!"
            add(.dccp(packet))
            return
        }
        var complete = true
        switch type {
        case 0, 1:
            if let service = u32(fieldsAt + (type == 0 ? 0 : 8)), has(fieldsAt, added) {
                packet.text += "\(name) (service=\(service)) "
            } else {
                complete = false
            }
        case 7:
            if let code = u8(fieldsAt + 8), has(fieldsAt, added) {
                packet.text += "\(name) (code=\(code < Self.dccpResetCodes.count ? Self.dccpResetCodes[Int(code)] : "invalid")) "
            } else {
                complete = false
            }
        case 2...9:
            packet.text += "\(name) "
        default:
            packet.text += "unknown-type-\(type) "
        }
        if complete && type != 0 && type != 2 {
            // A 48-bit number after 2 reserved bytes, or a 24-bit one after 1.
            let acknowledgment = extended
                ? u16(fieldsAt + 2).flatMap { high in u32(fieldsAt + 4).map { UInt64(high) << 32 | UInt64($0) } }
                : u8(fieldsAt + 1).flatMap { high in u16(fieldsAt + 2).map { UInt64(high) << 16 | UInt64($0) } }
            if let acknowledgment {
                packet.text += "(ack=\(acknowledgment)) "
            } else {
                complete = false
            }
        }
        if complete && verbosity > 1 {
            let sequence = extended
                ? u16(offset + 10).flatMap { high in u32(offset + 12).map { UInt64(high) << 32 | UInt64($0) } }
                : u8(offset + 9).flatMap { high in u16(offset + 10).map { UInt64(high) << 16 | UInt64($0) } }
            packet.text += "seq \(sequence ?? 0)"
            if packet.dataOffset > headerLength {
                complete = dccpOptions(&packet.text, at: offset + headerLength, length: packet.dataOffset - headerLength)
            }
        }
        add(.dccp(packet))
        if !complete { truncated("dccp") }
    }

    static let dccpOptionNames: [UInt8: String] = [
        0: "nop", 1: "mandatory", 2: "slowreceiver", 32: "change_l", 33: "confirm_l", 34: "change_r", 35: "confirm_r",
        36: "initcookie", 37: "ndp_count", 38: "ack_vector0", 39: "ack_vector1", 40: "data_dropped", 41: "timestamp",
        42: "timestamp_echo", 43: "elapsed_time", 44: "data_checksum",
    ]
    static let dccpFeatureNames = [
        "reserved", "ccid", "allow_short_seqno", "sequence_window", "ecn_incapable", "ack_ratio", "send_ack_vector",
        "send_ndp_count", "minimum checksum coverage", "check data checksum",
    ]

    /// -vv: the options in the `length` bytes after the fixed header, as ` <nop, change_l
    /// ccid 2>`; false when the capture ends before an option's kind or length.
    func dccpOptions(_ text: inout String, at start: Int, length: Int) -> Bool {
        text += " <"
        var cursor = start
        var left = length
        while true {
            guard let kind = u8(cursor) else { return false }
            let name = kind >= 128 ? "CCID option \(kind)" : Self.dccpOptionNames[kind] ?? "Option \(kind)"
            var optionLength = 1
            if kind >= 32 {
                guard let value = u8(cursor + 1) else { return false }
                optionLength = Int(value)
                guard optionLength >= 2 else {
                    text += name + " optlen too short"
                    break
                }
            }
            guard left >= optionLength else {
                text += name + " optlen goes past header length"
                break
            }
            // tcpdump marks an option cut short by the capture and closes the list.
            guard has(cursor, optionLength) else {
                text += " [|dccp]"
                break
            }
            text += name + dccpOptionValue(kind, at: cursor + 2, length: optionLength)
            guard left > optionLength else { break }
            left -= optionLength
            cursor += optionLength
            text += ", "
        }
        text += ">"
        return true
    }

    /// What follows an option's name: its data, read as the option's kind says; all of
    /// the option was captured.
    func dccpOptionValue(_ kind: UInt8, at data: Int, length: Int) -> String {
        let hexDigits = { (prefix: String) in
            length > 2 ? prefix + (self.bytes(data, length - 2) ?? []).map { hex($0, width: 2) }.joined() : ""
        }
        if kind >= 128 {
            switch length {
            case 4: return " \(u16(data) ?? 0)"
            case 6: return " \(u32(data) ?? 0)"
            default: return ""
            }
        }
        switch kind {
        case 32...35:
            guard length >= 3 else { return " optlen too short" }
            guard let feature = u8(data), feature < 10 else { return "" }
            return " " + Self.dccpFeatureNames[Int(feature)] + (bytes(data + 1, length - 3) ?? []).map { " \($0)" }.joined()
        case 36, 38, 39, 40:
            return hexDigits(" 0x")
        case 37:
            return (bytes(data, length - 2) ?? []).map { " \($0)" }.joined()
        case 41:
            return length == 6 ? " \(u32(data) ?? 0)" : " [optlen != 6]"
        case 42:
            switch length {
            case 6: return " \(u32(data) ?? 0)"
            case 8: return " \(u32(data) ?? 0) (elapsed time \(u16(data + 4) ?? 0))"
            case 10: return " \(u32(data) ?? 0) (elapsed time \(u32(data + 4) ?? 0))"
            default: return " [optlen != 6 or 8 or 10]"
            }
        case 43:
            switch length {
            case 6: return " \(u32(data) ?? 0)"
            case 4: return " \(u16(data) ?? 0)"
            default: return " [optlen != 4 or 6]"
            }
        case 44:
            return hexDigits(" ")
        default:
            return ""
        }
    }
}
