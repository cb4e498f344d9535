/// An AArch64 general-purpose register: x0...x30 by number; 31 is xzr or sp, as the
/// instruction reads it.
struct AArch64Register: Equatable {
    let number: UInt32
    static func x(_ number: UInt32) -> AArch64Register { AArch64Register(number: number & 31) }
    static let zero = AArch64Register(number: 31), stackPointer = AArch64Register(number: 31)
    static let linkRegister = AArch64Register(number: 30)
}

/// Condition codes, numbered as in B.cond and CSEL.
enum AArch64Condition: UInt32 {
    case equal = 0, notEqual, higherOrSame, lower, minus, plus, overflow, noOverflow
    case higher, lowerOrSame, greaterOrEqual, less, greater, lessOrEqual
}

/// Our own AArch64 instruction encoder, the second back end's start: every instruction is one
/// 32-bit word, so each function returns it (or nil when an operand does not fit its field)
/// and `append` lays it down. `wide` picks the 64-bit form (sf = 1) over the 32-bit one.
struct AArch64Assembler {
    private(set) var words: [UInt32] = []

    var bytes: [UInt8] { words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } } }

    mutating func append(_ word: UInt32) { words.append(word) }

    private static func sf(_ wide: Bool) -> UInt32 { wide ? 1 << 31 : 0 }

    private static func fields(_ d: AArch64Register, _ n: AArch64Register) -> UInt32 { n.number << 5 | d.number }

    // MARK: Arithmetic and logic

    /// add, sub, and, orr, eor and their flag-setting forms, on registers.
    enum RegisterOperation: UInt32 {
        case add = 0x0b00_0000, sub = 0x4b00_0000, subs = 0x6b00_0000
        case and = 0x0a00_0000, orr = 0x2a00_0000, eor = 0x4a00_0000, ands = 0x6a00_0000
    }

    static func operate(_ operation: RegisterOperation, _ d: AArch64Register, _ n: AArch64Register,
                        _ m: AArch64Register, wide: Bool) -> UInt32 {
        sf(wide) | operation.rawValue | m.number << 16 | fields(d, n)
    }

    /// add, sub, subs with a 12-bit unsigned immediate (the other forms take a bitmask).
    enum ImmediateOperation: UInt32 {
        case add = 0x1100_0000, sub = 0x5100_0000, subs = 0x7100_0000
    }

    static func operate(_ operation: ImmediateOperation, _ d: AArch64Register, _ n: AArch64Register,
                        immediate: UInt32, wide: Bool) -> UInt32? {
        guard immediate < 1 << 12 else { return nil }
        return sf(wide) | operation.rawValue | immediate << 10 | fields(d, n)
    }

    /// mul, udiv, sdiv, msub (d = a - n * m) and the shifts by register.
    static func multiply(_ d: AArch64Register, _ n: AArch64Register, _ m: AArch64Register, wide: Bool) -> UInt32 {
        multiplySubtract(d, n, m, from: .zero, wide: wide) & ~(1 << 15)
    }

    static func multiplySubtract(_ d: AArch64Register, _ n: AArch64Register, _ m: AArch64Register,
                                 from a: AArch64Register, wide: Bool) -> UInt32 {
        sf(wide) | 0x1b00_8000 | m.number << 16 | a.number << 10 | fields(d, n)
    }

    enum DataProcessing: UInt32 {
        case udiv = 0x0800, sdiv = 0x0c00, lslv = 0x2000, lsrv = 0x2400, asrv = 0x2800
    }

    static func process(_ operation: DataProcessing, _ d: AArch64Register, _ n: AArch64Register,
                        _ m: AArch64Register, wide: Bool) -> UInt32 {
        sf(wide) | 0x1ac0_0000 | operation.rawValue | m.number << 16 | fields(d, n)
    }

    /// Shifts by a constant, as the bitfield moves they are aliases of.
    enum Shift { case left, right, arithmeticRight }

    static func shift(_ kind: Shift, _ d: AArch64Register, _ n: AArch64Register, by amount: UInt32, wide: Bool) -> UInt32 {
        let bits: UInt32 = wide ? 64 : 32
        let amount = amount % bits
        let (immr, imms): (UInt32, UInt32) = switch kind {
        case .left: ((bits - amount) % bits, bits - 1 - amount)
        case .right, .arithmeticRight: (amount, bits - 1)
        }
        return bitfield(signed: kind == .arithmeticRight, d, n, immr: immr, imms: imms, wide: wide)
    }

    /// sbfm/ubfm: sign or zero extension, and the constant shifts.
    static func bitfield(signed: Bool, _ d: AArch64Register, _ n: AArch64Register, immr: UInt32, imms: UInt32,
                         wide: Bool) -> UInt32 {
        let n64: UInt32 = wide ? 1 << 22 : 0
        return sf(wide) | (signed ? 0x1300_0000 : 0x5300_0000) | n64 | immr << 16 | imms << 10 | fields(d, n)
    }

    /// rev16, rev32 (rev of a w register), rev (of an x register).
    static func reverseBytes(_ d: AArch64Register, _ n: AArch64Register, bits: Int) -> UInt32 {
        switch bits {
        case 16: 0x5ac0_0400 | fields(d, n)
        case 32: 0x5ac0_0800 | fields(d, n)
        default: 0xdac0_0c00 | fields(d, n)
        }
    }

    /// movz, movk, movn: a 16-bit piece at bit 16 * `slot` (0...3; 0...1 for w registers).
    enum Move: UInt32 { case keepingOthers = 0x7280_0000, zeroingOthers = 0x5280_0000, inverted = 0x1280_0000 }

    static func move(_ kind: Move, _ d: AArch64Register, _ piece: UInt16, slot: UInt32, wide: Bool) -> UInt32 {
        sf(wide) | kind.rawValue | (slot & (wide ? 3 : 1)) << 21 | UInt32(piece) << 5 | d.number
    }

    /// The shortest movz (or movn) + movk sequence for a 64-bit constant: pieces equal to the
    /// filler the first move leaves need no movk.
    static func moveConstant(_ d: AArch64Register, _ value: UInt64) -> [UInt32] {
        let pieces = (0..<4).map { UInt16(truncatingIfNeeded: value >> (16 * $0)) }
        let inverted = pieces.filter { $0 == 0xffff }.count > pieces.filter { $0 == 0 }.count
        let filler: UInt16 = inverted ? 0xffff : 0
        var words: [UInt32] = []
        for (slot, piece) in pieces.enumerated() where piece != filler {
            if words.isEmpty {
                words.append(inverted ? move(.inverted, d, ~piece, slot: UInt32(slot), wide: true)
                                      : move(.zeroingOthers, d, piece, slot: UInt32(slot), wide: true))
            } else {
                words.append(move(.keepingOthers, d, piece, slot: UInt32(slot), wide: true))
            }
        }
        if words.isEmpty { words.append(move(inverted ? .inverted : .zeroingOthers, d, 0, slot: 0, wide: true)) }
        return words
    }

    /// orr d, xzr, m.
    static func move(_ d: AArch64Register, _ m: AArch64Register, wide: Bool) -> UInt32 {
        operate(.orr, d, .zero, m, wide: wide)
    }

    // MARK: Memory

    /// ldr/str of 1, 2, 4 or 8 bytes at [n + offset], offset a multiple of the size.
    static func load(size: Int, _ t: AArch64Register, _ n: AArch64Register, offset: Int32) -> UInt32? {
        memory(size: size, isLoad: true, t, n, offset: offset)
    }

    static func store(size: Int, _ t: AArch64Register, _ n: AArch64Register, offset: Int32) -> UInt32? {
        memory(size: size, isLoad: false, t, n, offset: offset)
    }

    /// The scaled unsigned 12-bit form, else the unscaled signed 9-bit one (ldur/stur).
    private static func memory(size: Int, isLoad: Bool, _ t: AArch64Register, _ n: AArch64Register,
                               offset: Int32) -> UInt32? {
        let sizeBits = UInt32(size.trailingZeroBitCount) << 30
        let opc: UInt32 = isLoad ? 1 << 22 : 0
        if offset >= 0 && offset % Int32(size) == 0 && offset / Int32(size) < 1 << 12 {
            return sizeBits | 0x3900_0000 | opc | UInt32(offset / Int32(size)) << 10 | t.number | n.number << 5
        }
        guard offset >= -256 && offset < 256 else { return nil }
        return sizeBits | 0x3800_0000 | opc | (UInt32(bitPattern: offset) & 0x1ff) << 12 | t.number | n.number << 5
    }

    /// stp with pre-index (push) and ldp with post-index (pop) of two x registers.
    static func pushPair(_ a: AArch64Register, _ b: AArch64Register, _ n: AArch64Register, offset: Int32) -> UInt32? {
        pair(0xa980_0000, a, b, n, offset: offset)
    }

    static func popPair(_ a: AArch64Register, _ b: AArch64Register, _ n: AArch64Register, offset: Int32) -> UInt32? {
        pair(0xa8c0_0000, a, b, n, offset: offset)
    }

    private static func pair(_ opcode: UInt32, _ a: AArch64Register, _ b: AArch64Register, _ n: AArch64Register,
                             offset: Int32) -> UInt32? {
        guard offset % 8 == 0, offset / 8 >= -64, offset / 8 < 64 else { return nil }
        return opcode | (UInt32(bitPattern: offset / 8) & 0x7f) << 15 | b.number << 10 | n.number << 5 | a.number
    }

    // MARK: Branches

    /// b and bl by a distance in bytes (a multiple of 4, within ±128 MiB).
    static func branch(by distance: Int, link: Bool = false) -> UInt32? {
        guard distance % 4 == 0, distance / 4 >= -(1 << 25), distance / 4 < 1 << 25 else { return nil }
        return (link ? 0x9400_0000 : 0x1400_0000) | UInt32(truncatingIfNeeded: distance / 4) & 0x3ff_ffff
    }

    /// b.cond by a distance in bytes (within ±1 MiB).
    static func branch(if condition: AArch64Condition, by distance: Int) -> UInt32? {
        guard distance % 4 == 0, distance / 4 >= -(1 << 18), distance / 4 < 1 << 18 else { return nil }
        return 0x5400_0000 | (UInt32(truncatingIfNeeded: distance / 4) & 0x7_ffff) << 5 | condition.rawValue
    }

    /// blr, br, ret.
    static func branchToRegister(_ n: AArch64Register, link: Bool) -> UInt32 { (link ? 0xd63f_0000 : 0xd61f_0000) | n.number << 5 }

    static func ret() -> UInt32 { 0xd65f_03c0 }
}
