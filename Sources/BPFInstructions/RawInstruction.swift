/// Byte order of encoded instructions. eBPF code is normally little-endian; big-endian
/// targets (`-target bpfeb`) swap the multi-byte fields and the two register nibbles.
public enum ByteOrder: Sendable, Hashable {
    case little, big

    /// The byte order of the machine this code runs on.
    public static var host: ByteOrder { UInt16(1).littleEndian == 1 ? .little : .big }
}

/// One 8-byte instruction slot, as the kernel's `struct bpf_insn`: opcode, destination and
/// source register numbers (4 bits each), a signed 16-bit offset and a signed 32-bit
/// immediate. Any bit pattern is representable; `Instruction` gives them meaning.
public struct RawInstruction: Hashable, Sendable {
    public var opcode: UInt8
    /// Destination register field, 0–15 (only 0–10 are valid registers).
    public var dst: UInt8
    /// Source register field, 0–15; for some opcodes a pseudo-source selector instead.
    public var src: UInt8
    public var offset: Int16
    public var imm: Int32

    public static let byteCount = 8

    public init(opcode: UInt8, dst: UInt8 = 0, src: UInt8 = 0, offset: Int16 = 0, imm: Int32 = 0) {
        self.opcode = opcode
        self.dst = dst & 0xf
        self.src = src & 0xf
        self.offset = offset
        self.imm = imm
    }

    /// Reads one slot from exactly 8 bytes starting at `start`; the caller checks the length.
    init(bytes: UnsafeRawBufferPointer, at start: Int, order: ByteOrder) {
        let regs = bytes[start + 1]
        let off = UInt16(bytes[start + 2]) | UInt16(bytes[start + 3]) << 8
        let imm = UInt32(bytes[start + 4]) | UInt32(bytes[start + 5]) << 8
            | UInt32(bytes[start + 6]) << 16 | UInt32(bytes[start + 7]) << 24
        switch order {
        case .little:
            self.init(opcode: bytes[start], dst: regs & 0xf, src: regs >> 4,
                      offset: Int16(bitPattern: off), imm: Int32(bitPattern: imm))
        case .big:
            self.init(opcode: bytes[start], dst: regs >> 4, src: regs & 0xf,
                      offset: Int16(bitPattern: off.byteSwapped), imm: Int32(bitPattern: imm.byteSwapped))
        }
    }

    /// Appends the 8 encoded bytes of this slot.
    public func append(to bytes: inout [UInt8], order: ByteOrder = .little) {
        let off = UInt16(bitPattern: offset)
        let imm = UInt32(bitPattern: self.imm)
        switch order {
        case .little:
            bytes.append(opcode)
            bytes.append(src << 4 | dst)
            bytes.append(UInt8(truncatingIfNeeded: off))
            bytes.append(UInt8(truncatingIfNeeded: off >> 8))
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: imm >> UInt32(shift))) }
        case .big:
            bytes.append(opcode)
            bytes.append(dst << 4 | src)
            bytes.append(UInt8(truncatingIfNeeded: off >> 8))
            bytes.append(UInt8(truncatingIfNeeded: off))
            for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: imm >> UInt32(shift))) }
        }
    }

    /// Decodes every slot of `bytes`; the length must be a multiple of 8.
    public static func slots(from bytes: [UInt8], order: ByteOrder = .little) throws(DecodeError) -> [RawInstruction] {
        guard bytes.count % byteCount == 0 else {
            throw DecodeError(index: bytes.count / byteCount, reason: .truncated(byteCount: bytes.count))
        }
        return bytes.withUnsafeBytes { buffer in
            (0..<bytes.count / byteCount).map { RawInstruction(bytes: buffer, at: $0 * byteCount, order: order) }
        }
    }
}
