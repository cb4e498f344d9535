import ClassicBPF

/// A filter compiled for Linux cooked headers (SLL or SLL2), rewritten for the kernel. A
/// cooked socket hands its filter the packet from the network header on — there is no cooked
/// header in front — so offsets past the header move down by its length, and the header
/// fields a filter reads become ancillary loads of the same width. A program that reads any
/// other header byte cannot run in the kernel.
enum CookedSocketFilter {
    /// A header field the kernel supplies: where it lies, how wide a load of it is (the
    /// classic size bits: 0x00 word, 0x08 half word, 0x10 byte) and the ancillary field.
    struct Field {
        var offset: UInt32
        var size: UInt8
        var ancillary: AncillaryField
    }

    /// SLL: packet type (2 bytes at 0) and protocol (2 at 14), in a 16-byte header.
    static let sll = (headerLength: UInt32(16), fields: [
        Field(offset: 0, size: 0x08, ancillary: .packetType),
        Field(offset: 14, size: 0x08, ancillary: .protocol),
    ])
    /// SLL2: protocol (2 bytes at 0), interface index (4 at 4), hardware type (2 at 8) and
    /// packet type (1 at 10), in a 20-byte header.
    static let sll2 = (headerLength: UInt32(20), fields: [
        Field(offset: 0, size: 0x08, ancillary: .protocol),
        Field(offset: 4, size: 0x00, ancillary: .interfaceIndex),
        Field(offset: 8, size: 0x08, ancillary: .hardwareType),
        Field(offset: 10, size: 0x10, ancillary: .packetType),
    ])

    /// The kernel form of `program` for `linkType` (`.linuxSLL` or `.linuxSLL2`), or nil
    /// when it reads header bytes the kernel cannot supply.
    static func kernelForm(_ program: ClassicProgram, linkType: LinkType) -> ClassicProgram? {
        let header = linkType == .linuxSLL2 ? sll2 : sll
        var rewritten: [RawClassicInstruction] = []
        for var instruction in program.raw {
            let instructionClass = instruction.code & 0x07
            let mode = instruction.code & 0xe0
            // Loads (ld, ldx) that address the packet: absolute, indexed, and ldx 4*([k]&0xf).
            if (instructionClass == 0x00 || instructionClass == 0x01) && (mode == 0x20 || mode == 0x40 || mode == 0xa0) {
                if mode == 0x20 && AncillaryField.isAncillary(instruction.k) {
                    // Already the kernel's (`ifindex` on a live socket).
                } else if instruction.k >= header.headerLength {
                    instruction.k -= header.headerLength
                } else if mode == 0x20, instructionClass == 0x00,
                          let field = header.fields.first(where: { $0.offset == instruction.k && $0.size == instruction.code & 0x18 }) {
                    instruction.k = field.ancillary.offset
                } else {
                    return nil
                }
            }
            rewritten.append(instruction)
        }
        return try? ClassicProgram(rewritten)
    }
}
