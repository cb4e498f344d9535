/// DCCP (RFC 4340) as tcpdump prints it: the ports, the packet type, a Request's or
/// Response's service code, a Reset's code, and the acknowledgment number; with -v the
/// congestion control value and the checksum first.
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
        add(.dccp(packet))
        if !complete { truncated("dccp") }
    }
}
