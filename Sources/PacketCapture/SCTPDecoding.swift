/// SCTP (RFC 9260) as tcpdump prints it: the ports, then each chunk's number and type, with
/// the fields of DATA, INIT, INIT ACK and SACK chunks (a SACK's gap blocks and duplicate TSNs
/// on lines of their own); with -vv each chunk starts a line.
extension PacketDecoding {
    /// How reading the chunks ended, beyond the text.
    enum SCTPEnding { case complete, truncated(String), forces }

    mutating func sctp(at offset: Int, length: Int) {
        guard length >= 12 else {
            note("truncated-sctp - \(12 - length) bytes missing!")
            return
        }
        guard has(offset, 12), let sourcePort = u16(offset), let destinationPort = u16(offset + 2) else {
            truncated("sctp")
            return
        }
        var packet = SCTPPacket(sourcePort: sourcePort, destinationPort: destinationPort, chunkTypes: [], text: "sctp")
        let ending = sctpChunks(&packet, at: offset + 12, length: length - 12)
        add(.sctp(packet))
        switch ending {
        case .complete: break
        case .truncated(let protocolName): truncated(protocolName)
        case .forces: undecoded("ForCES")
        }
    }

    static let forcesChannels: [UInt16: String] = [6704: "ForCES HP", 6705: "ForCES MP", 6706: "ForCES LP"]

    static let sctpChunkNames: [UInt8: String] = [
        0: "DATA", 1: "INIT", 2: "INIT ACK", 3: "SACK", 4: "HB REQ", 5: "HB ACK", 6: "ABORT", 7: "SHUTDOWN",
        8: "SHUTDOWN ACK", 9: "OP ERR", 10: "COOKIE ECHO", 11: "COOKIE ACK", 12: "ECN ECHO", 13: "ECN CWR",
        14: "SHUTDOWN COMPLETE", 0xc0: "FOR CUM TSN", 0xc1: "REL CTRL", 0xc2: "REL CTRL ACK",
    ]

    static let sctpPayloadProtocols: [UInt32: String] = [
        1: "ISDN Q.921", 2: "M2UA", 3: "M3UA", 4: "SUA", 5: "M2PA", 6: "V5.2", 7: "H.248", 8: "BICC", 9: "TALI",
        10: "DUA", 11: "ASAP", 12: "ENRP", 13: "H.323", 14: "Q.IPC", 15: "SIMCO", 16: "DDPSC", 17: "DDPSSC",
        18: "S1AP", 19: "RUA", 20: "HNBAP", 21: "ForCES HP", 22: "ForCES MP", 23: "ForCES LP", 24: "SBc-AP",
        25: "NBAP", 27: "X2AP",
    ]

    /// The chunks from `start`, `length` bytes by the IP header's count. The count is
    /// tcpdump's unsigned one: a chunk longer than what is left wraps it, and reading goes
    /// on until the captured bytes end.
    func sctpChunks(_ packet: inout SCTPPacket, at start: Int, length: Int) -> SCTPEnding {
        var forces = false
        for port in [packet.sourcePort, packet.destinationPort] {
            if let channel = Self.forcesChannels[port] {
                packet.text += "[\(channel)]"
                forces = true
            }
        }
        var remaining = UInt32(clamping: length)
        var cursor = start
        var separator = verbosity >= 2 ? "\n\t" : " ("
        var number = 1
        while remaining != 0 {
            guard remaining >= 4 else {
                packet.text += "\(separator)\(number)) [chunk descriptor cut off at end of packet]"
                return .complete
            }
            guard has(cursor, 4), let type = u8(cursor), let flags = u8(cursor + 1), let chunkLength = u16(cursor + 2) else { return .truncated("sctp") }
            guard chunkLength >= 4 else {
                packet.text += "\(separator)\(number)) [Bad chunk length \(chunkLength), < size of chunk descriptor]"
                return .complete
            }
            let padding = UInt32((4 - chunkLength % 4) % 4)
            guard remaining >= padding else {
                packet.text += "\(separator)\(number)) [Bad chunk length \(chunkLength), > remaining data in packet]"
                return .complete
            }
            guard has(cursor, Int(chunkLength)) else { return .truncated("sctp") }
            let body = cursor + 4
            packet.chunkTypes.append(type)
            packet.text += "\(separator)\(number)) [\(Self.sctpChunkNames[type] ?? "Unknown chunk type: 0x\(String(type, radix: 16))")] "
            let bodyLength = Int(chunkLength) - 4
            let bogus = "bogus chunk length \(chunkLength)]"
            switch type {
            case 0:
                if flags & 0x04 != 0 { packet.text += "(U)" }
                if flags & 0x02 != 0 { packet.text += "(B)" }
                if flags & 0x01 != 0 { packet.text += "(E)" }
                if flags & 0x07 != 0 { packet.text += " " }
                guard bodyLength >= 12 else {
                    packet.text += bogus
                    return .complete
                }
                let payloadProtocol = u32(body + 8) ?? 0
                packet.text += "[TSN: \(u32(body) ?? 0)] [SID: \(u16(body + 4) ?? 0)] [SSEQ \(u16(body + 6) ?? 0)] "
                packet.text += "[PPID \(Self.sctpPayloadProtocols[payloadProtocol] ?? "0x" + String(payloadProtocol, radix: 16))] "
                forces = forces || (21...23).contains(payloadProtocol)
                guard bodyLength > 12 else {
                    packet.text += bogus
                    return .complete
                }
                if forces { return .forces }
                if verbosity > 1 {
                    // -vv: an M3UA message decoded, any other payload in hex and text.
                    if payloadProtocol == 3 {
                        guard m3ua(&packet.text, at: body + 12, size: bodyLength - 12) else { return .truncated("m3ua") }
                    } else {
                        packet.text += "[Payload:" + PacketBytesText.hexLines(bytes(body + 12, bodyLength - 12) ?? [], ascii: true) + "]"
                    }
                }
            case 1, 2:
                guard bodyLength >= 16 else {
                    packet.text += bogus
                    return .complete
                }
                packet.text += "[init tag: \(u32(body) ?? 0)] [rwnd: \(u32(body + 4) ?? 0)] [OS: \(u16(body + 8) ?? 0)] "
                packet.text += "[MIS: \(u16(body + 10) ?? 0)] [init TSN: \(u32(body + 12) ?? 0)] "
            case 3:
                guard bodyLength >= 12 else {
                    packet.text += bogus
                    return .complete
                }
                let gaps = u16(body + 8) ?? 0, duplicates = u16(body + 10) ?? 0
                packet.text += "[cum ack \(u32(body) ?? 0)] [a_rwnd \(u32(body + 4) ?? 0)] [#gap acks \(gaps)] [#dup tsns \(duplicates)] "
                guard sctpSelectiveAckLists(&packet.text, at: body, bodyLength: bodyLength, gaps: gaps, duplicates: duplicates) else {
                    packet.text += bogus
                    return .complete
                }
            default:
                break
            }
            cursor += Int(chunkLength) + Int(padding)
            remaining &-= UInt32(chunkLength)
            if verbosity < 2 { separator = ", (" }
            if padding != 0 {
                guard has(cursor - Int(padding), Int(padding)) else { return .truncated("sctp") }
                remaining &-= padding
            }
            number += 1
        }
        return .complete
    }

    /// A SACK's gap ack blocks (as TSNs: the cumulative ack plus each offset) and duplicate
    /// TSNs, each on its own line; false when the chunk ends inside one.
    func sctpSelectiveAckLists(_ text: inout String, at body: Int, bodyLength: Int, gaps: UInt16, duplicates: UInt16) -> Bool {
        let cumulative = u32(body) ?? 0
        var cursor = body + 12
        var left = bodyLength - 12
        var number: UInt16 = 0
        while left != 0 && number < gaps {
            guard left >= 4 else { return false }
            let start = cumulative &+ UInt32(u16(cursor) ?? 0), stop = cumulative &+ UInt32(u16(cursor + 2) ?? 0)
            number += 1
            text += "\n\t\t[gap ack block #\(number): start = \(start), end = \(stop)] "
            cursor += 4
            left -= 4
        }
        number = 0
        while left != 0 && number < duplicates {
            guard left >= 4 else { return false }
            number += 1
            text += "\n\t\t[dup TSN #\(number): \(u32(cursor) ?? 0)] "
            cursor += 4
            left -= 4
        }
        return true
    }
}
