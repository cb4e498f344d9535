import BPFInstructions

/// A classic program that passed the kernel's checks: 1 to 4096 known instructions, forward
/// jumps that stay inside, a `ret` at the end, scratch words written before they are read.
/// (A program made for libpcap's filtering in user space may be longer, as libpcap's are.)
/// Everything that runs, prints or translates classic code starts from one of these.
public struct ClassicProgram: Sendable, Hashable {
    /// The instructions as given, unused fields and all (what the kernel would receive).
    public let raw: [RawClassicInstruction]
    /// The same instructions with their meaning.
    public let instructions: [ClassicInstruction]

    public init(_ raw: [RawClassicInstruction]) throws(ClassicValidationError) {
        instructions = try ClassicValidator.validate(raw)
        self.raw = raw
    }

    /// Checks the instructions as they are, without the round trip through their encoding
    /// (which gives them back unchanged): the compiler makes one of these per expression.
    /// `maximumLength`: the kernel's, unless the program only runs in user space.
    public init(_ instructions: [ClassicInstruction], maximumLength: Int = ClassicOpcode.maxInstructions) throws(ClassicValidationError) {
        var raw: [RawClassicInstruction] = []
        raw.reserveCapacity(instructions.count)
        for instruction in instructions { raw.append(instruction.raw) }
        try ClassicValidator.validate(encoded: raw, maximumLength: maximumLength)
        self.raw = raw
        self.instructions = instructions
    }

    /// Decodes and validates an array of `struct sock_filter` (8 bytes each).
    public init(bytes: [UInt8], order: ByteOrder = .host) throws(ClassicValidationError) {
        try self.init(RawClassicInstruction.instructions(from: bytes, order: order))
    }

    public func bytes(order: ByteOrder = .host) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count * RawClassicInstruction.byteCount)
        for instruction in raw { instruction.append(to: &bytes, order: order) }
        return bytes
    }

    public static func == (lhs: ClassicProgram, rhs: ClassicProgram) -> Bool { lhs.raw == rhs.raw }
    public func hash(into hasher: inout Hasher) { hasher.combine(raw) }
}
