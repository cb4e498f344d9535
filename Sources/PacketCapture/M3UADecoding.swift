/// M3UA (RFC 4666), SS7 MTP3 user adaptation carried in SCTP DATA chunks, as tcpdump -vv
/// prints it: the message class and type, then each parameter's name on a line of its own.
extension PacketDecoding {
    static let m3uaClassNames: [UInt8: String] = [
        0: "Management", 1: "Transfer", 2: "SS7", 3: "ASP", 4: "ASP", 9: "Routing Key Management",
    ]
    static let m3uaMessageNames: [UInt8: [UInt8: String]] = [
        0: [0: "Error", 1: "Notify"],
        1: [1: "Data"],
        2: [1: "Destination Unavailable", 2: "Destination Available", 3: "Destination State Audit", 4: "Signalling Congestion",
            5: "Destination User Part Unavailable", 6: "Destination Restricted"],
        3: [1: "Up", 2: "Down", 3: "Heartbeat", 4: "Up Acknowledgement", 5: "Down Acknowledgement", 6: "Heartbeat Acknowledgement"],
        4: [1: "Active", 2: "Inactive", 3: "Active Acknowledgement", 4: "Inactive Acknowledgement"],
        9: [1: "Registration Request", 2: "Registration Response", 3: "Deregistration Request", 4: "Deregistration Response"],
    ]
    static let m3uaParameterNames: [UInt16: String] = [
        0x0004: "INFO String", 0x0006: "Routing Context", 0x0007: "Diagnostic Info", 0x0009: "Heartbeat Data",
        0x000b: "Traffic Mode Type", 0x000c: "Error Code", 0x000d: "Status", 0x0011: "ASP Identifier",
        0x0012: "Affected Point Code", 0x0013: "Correlation ID", 0x0200: "Network Appearance", 0x0204: "User/Cause",
        0x0205: "Congestion Indications", 0x0206: "Concerned Destination", 0x0207: "Routing Key",
        0x0208: "Registration Result", 0x0209: "Deregistration Result", 0x020a: "Local Routing Key Identifier",
        0x020b: "Destination Point Code", 0x020c: "Service Indicators", 0x020e: "Originating Point Code List",
        0x0210: "Protocol Data", 0x0212: "Registration Status", 0x0213: "Deregistration Status",
    ]

    /// Appends the message of `size` bytes at `start`; false when the capture ends inside a
    /// parameter it reads.
    func m3ua(_ text: inout String, at start: Int, size: Int) -> Bool {
        let invalid = " (invalid)"
        guard size >= 8 else {
            text += invalid
            return has(start, size)
        }
        guard let version = u8(start), let messageClass = u8(start + 2), let type = u8(start + 3), let length = u32(start + 4) else {
            return false
        }
        // Only release 1.0 is printed.
        guard version == 1 else { return true }
        text += "\n\t\t" + (Self.m3uaClassNames[messageClass] ?? "Unknown message class \(messageClass)")
        if let names = Self.m3uaMessageNames[messageClass] {
            text += " " + (names[type] ?? "Unknown (0x\(hex(type, width: 2)))") + " Message"
        }
        guard length == UInt32(size) else {
            text += "\n\t\t\t@@@@@@ Corrupted length \(length) of message @@@@@@"
            return true
        }
        let parameters = start + 8, stop = start + size
        var cursor = parameters
        while cursor < stop {
            guard stop - cursor >= 4 else {
                text += invalid
                return has(parameters, size - 8)
            }
            guard let tag = u16(cursor), let parameterLength = u16(cursor + 2).map(Int.init) else { return false }
            text += "\n\t\t\t" + (Self.m3uaParameterNames[tag] ?? "Unknown Parameter (0x\(hex(tag, width: 4)))") + ": "
            guard parameterLength >= 4 else {
                text += invalid
                return has(parameters, size - 8)
            }
            let padding = (4 - (cursor + parameterLength - parameters) % 4) % 4
            guard has(cursor, parameterLength + padding) else { return false }
            switch tag {
            case 0x0006, 0x0013, 0x0200:
                // tcpdump reads these four bytes from the parameter's start, its tag and length.
                text += parameterLength < 8 ? invalid : "0x" + hex(u32(cursor) ?? 0, width: 8)
            default:
                text += "(length \(parameterLength))"
            }
            cursor += parameterLength + padding
        }
        return true
    }
}
