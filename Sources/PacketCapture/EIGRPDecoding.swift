/// EIGRP (RFC 7868) as tcpdump prints it without -v: the opcode and the length.
extension PacketDecoding {
    static let eigrpOpcodes: [UInt8: String] = [1: "Update", 3: "Query", 4: "Reply", 5: "Hello", 6: "IPX SAP", 7: "Probe"]

    mutating func eigrp(at offset: Int, length: Int) {
        // tcpdump wants the whole 20-byte header captured before it prints anything.
        guard has(offset, 20), let version = u8(offset), let opcode = u8(offset + 1) else { return truncated("eigrp") }
        let text = version != 2
            ? "EIGRP version \(version) packet not supported"
            : "EIGRP \(Self.eigrpOpcodes[opcode] ?? "unknown (\(opcode))"), length: \(length)"
        add(.eigrp(EIGRPMessage(version: version, opcode: opcode, text: text)))
    }
}
