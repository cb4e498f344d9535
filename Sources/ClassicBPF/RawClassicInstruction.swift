import BPFInstructions

/// One 8-byte classic instruction as the kernel's `struct sock_filter` and libpcap's
/// `struct bpf_insn` lay it out: a 16-bit opcode, the jump-true and jump-false offsets and
/// the 32-bit operand `k`. Any bit pattern is representable; `ClassicInstruction` gives
/// them meaning.
public struct RawClassicInstruction: Hashable, Sendable {
    public var code: UInt16
    public var jt: UInt8
    public var jf: UInt8
    public var k: UInt32

    public static let byteCount = 8

    public init(code: UInt16, jt: UInt8 = 0, jf: UInt8 = 0, k: UInt32 = 0) {
        self.code = code
        self.jt = jt
        self.jf = jf
        self.k = k
    }

    /// Appends the 8 bytes of this instruction. The struct is in host order when it
    /// crosses `setsockopt(SO_ATTACH_FILTER)`, hence the default.
    public func append(to bytes: inout [UInt8], order: ByteOrder = .host) {
        let code = order == .little ? self.code.littleEndian : self.code.bigEndian
        let k = order == .little ? self.k.littleEndian : self.k.bigEndian
        withUnsafeBytes(of: code) { bytes += $0 }
        bytes.append(jt)
        bytes.append(jf)
        withUnsafeBytes(of: k) { bytes += $0 }
    }

    /// Decodes every instruction of `bytes`, whose length must be a multiple of 8.
    public static func instructions(from bytes: [UInt8], order: ByteOrder = .host)
        throws(ClassicValidationError) -> [RawClassicInstruction] {
        guard bytes.count % byteCount == 0 else {
            throw ClassicValidationError(index: bytes.count / byteCount, reason: .truncated(byteCount: bytes.count))
        }
        var result: [RawClassicInstruction] = []
        result.reserveCapacity(bytes.count / byteCount)
        var at = 0
        while at + byteCount <= bytes.count {
            let code = UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
            var k = UInt32(bytes[at + 4]) | UInt32(bytes[at + 5]) << 8
            k |= UInt32(bytes[at + 6]) << 16 | UInt32(bytes[at + 7]) << 24
            result.append(RawClassicInstruction(
                code: order == .little ? code : code.byteSwapped, jt: bytes[at + 2], jf: bytes[at + 3],
                k: order == .little ? k : k.byteSwapped))
            at += byteCount
        }
        return result
    }
}
