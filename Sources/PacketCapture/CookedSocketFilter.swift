import ClassicBPF

/// A filter compiled for Linux cooked (SLL) headers, rewritten for the kernel. A cooked
/// socket hands its filter the packet from the network header on — there is no SLL header in
/// front — so offsets past the 16-byte header move down by 16, and the two header fields a
/// filter reads become ancillary loads: the packet type (offset 0) and the protocol
/// (offset 14). A program that reads anything else of the header cannot run in the kernel.
enum CookedSocketFilter {
    static let headerLength: UInt32 = 16
    static let ancillaryBase = UInt32(bitPattern: -0x1000)  // SKF_AD_OFF
    static let protocolField: UInt32 = 0  // SKF_AD_PROTOCOL
    static let packetTypeField: UInt32 = 4  // SKF_AD_PKTTYPE

    /// The kernel form of `program`, or nil when it reads header bytes the kernel cannot supply.
    static func kernelForm(_ program: ClassicProgram) -> ClassicProgram? {
        var rewritten: [RawClassicInstruction] = []
        for var instruction in program.raw {
            let instructionClass = instruction.code & 0x07
            let mode = instruction.code & 0xe0
            // Loads (ld, ldx) that address the packet: absolute, indexed, and ldx 4*([k]&0xf).
            if (instructionClass == 0x00 || instructionClass == 0x01) && (mode == 0x20 || mode == 0x40 || mode == 0xa0) {
                if mode == 0x20 && AncillaryField.isAncillary(instruction.k) {
                    // Already the kernel's (`ifindex` on a live socket).
                } else if instruction.k >= headerLength {
                    instruction.k -= headerLength
                } else if mode == 0x20 && instruction.k == 0 {
                    instruction.k = ancillaryBase &+ packetTypeField
                } else if mode == 0x20 && instruction.k == 14 {
                    instruction.k = ancillaryBase &+ protocolField
                } else {
                    return nil
                }
            }
            rewritten.append(instruction)
        }
        return try? ClassicProgram(rewritten)
    }
}
