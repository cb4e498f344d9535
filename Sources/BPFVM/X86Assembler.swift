/// An x86-64 general-purpose register, by its encoding number (rax = 0 ... r15 = 15).
struct X86Register: Equatable {
    let code: UInt8
    static let rax = X86Register(code: 0), rcx = X86Register(code: 1), rdx = X86Register(code: 2)
    static let rbx = X86Register(code: 3), rsp = X86Register(code: 4), rbp = X86Register(code: 5)
    static let rsi = X86Register(code: 6), rdi = X86Register(code: 7), r8 = X86Register(code: 8)
    static let r9 = X86Register(code: 9), r10 = X86Register(code: 10), r11 = X86Register(code: 11)
    static let r12 = X86Register(code: 12), r13 = X86Register(code: 13), r14 = X86Register(code: 14)
    static let r15 = X86Register(code: 15)
}

/// A register or `[base + displacement]` operand (the r/m field of ModRM).
enum X86Operand {
    case register(X86Register)
    case memory(X86Register, Int32)
}

/// Condition codes, numbered as in Jcc/SETcc opcodes.
enum X86Condition: UInt8 {
    case below = 2, aboveOrEqual = 3, equal = 4, notEqual = 5, belowOrEqual = 6, above = 7
    case less = 0xc, greaterOrEqual = 0xd, lessOrEqual = 0xe, greater = 0xf
}

/// Our own x86-64 instruction encoder: legacy prefixes, REX, ModRM/SIB with 8- or 32-bit
/// displacements, immediates, and labels with rel8/rel32 branches patched when bound.
struct X86Assembler {
    private var code: CodeBuffer
    /// Code offset of each label, -1 while unbound.
    private var labels: [Int] = []
    /// rel32 or rel8 fields that wait for a label: (position of the field, label, is rel8).
    private var fixups: [(at: Int, label: Int, short: Bool)] = []

    /// `capacity` bytes of code and about as many labels and branches as `instructions`
    /// needs, so that emitting rarely grows an array.
    init(capacity: Int, instructions: Int) {
        code = CodeBuffer(capacity: capacity)
        labels.reserveCapacity(3 * instructions + 16)
        fixups.reserveCapacity(3 * instructions + 16)
    }

    var offset: Int { code.count }
    var bytes: [UInt8] { code.array }

    // MARK: Labels

    mutating func newLabel() -> Int {
        labels.append(-1)
        return labels.count - 1
    }

    mutating func newLabels(_ count: Int) -> Int {
        let first = labels.count
        labels.append(contentsOf: repeatElement(-1, count: count))
        return first
    }

    mutating func bind(_ label: Int) { labels[label] = code.count }

    func isBound(_ label: Int) -> Bool { labels[label] >= 0 }

    /// The code offset a label is bound to, -1 while unbound.
    func position(of label: Int) -> Int { labels[label] }

    /// Patches every branch; false when a short branch turned out too far (a front-end bug).
    mutating func resolve() -> Bool {
        for fixup in fixups {
            let target = labels[fixup.label]
            if fixup.short {
                let distance = target - (fixup.at + 1)
                guard target >= 0, let rel = Int8(exactly: distance) else { return false }
                code[fixup.at] = UInt8(bitPattern: rel)
            } else {
                guard target >= 0 else { return false }
                let rel = UInt32(truncatingIfNeeded: target - (fixup.at + 4))
                for i in 0..<4 { code[fixup.at + i] = UInt8(truncatingIfNeeded: rel >> (8 * UInt32(i))) }
            }
        }
        fixups.removeAll()
        return true
    }

    // MARK: Branches

    /// Backward branches take the short form when they reach; forward ones take rel32
    /// unless `short` promises a nearby target (checked in `resolve`).
    mutating func jump(to label: Int, short: Bool = false) {
        if let rel = backwardRel8(label, length: 2) {
            code.append(0xeb); code.append(rel)
        } else if short {
            code.append(0xeb); code.append(0)
            fixups.append((code.count - 1, label, true))
        } else {
            code.append(0xe9)
            rel32(label)
        }
    }

    mutating func jump(if condition: X86Condition, to label: Int, short: Bool = false) {
        if let rel = backwardRel8(label, length: 2) {
            code.append(0x70 | condition.rawValue); code.append(rel)
        } else if short {
            code.append(0x70 | condition.rawValue); code.append(0)
            fixups.append((code.count - 1, label, true))
        } else {
            code.append(0x0f); code.append(0x80 | condition.rawValue)
            rel32(label)
        }
    }

    mutating func call(_ label: Int) {
        code.append(0xe8)
        rel32(label)
    }

    private func backwardRel8(_ label: Int, length: Int) -> UInt8? {
        let target = labels[label]
        guard target >= 0, let rel = Int8(exactly: target - (code.count + length)) else { return nil }
        return UInt8(bitPattern: rel)
    }

    private mutating func rel32(_ label: Int) {
        let target = labels[label]
        if target >= 0 {
            append32(UInt32(truncatingIfNeeded: target - (code.count + 4)))
        } else {
            fixups.append((code.count, label, false))
            append32(0)
        }
    }

    // MARK: Encoding

    /// One instruction: [prefixes] [REX] opcode ModRM [SIB] [displacement]. `reg` is a
    /// register number or an opcode extension; `byteRegisters` asks for a REX prefix so
    /// that 4...7 name spl/bpl/sil/dil rather than ah/ch/dh/bh.
    mutating func emit(_ opcode: UInt8, escaped: Bool = false, wide: Bool, reg: UInt8, _ rm: X86Operand,
                       lock: Bool = false, word: Bool = false, byteRegisters: Bool = false) {
        if lock { code.append(0xf0) }
        if word { code.append(0x66) }
        let base: UInt8 = switch rm { case .register(let r): r.code; case .memory(let r, _): r.code }
        var rex: UInt8 = 0x40
        if wide { rex |= 8 }
        if reg >= 8 { rex |= 4 }
        if base >= 8 { rex |= 1 }
        var needsByteREX = byteRegisters && (4...7).contains(reg)
        if byteRegisters, case .register(let r) = rm, (4...7).contains(r.code) { needsByteREX = true }
        if rex != 0x40 || needsByteREX { code.append(rex) }
        if escaped { code.append(0x0f) }
        code.append(opcode)
        switch rm {
        case .register(let r):
            code.append(0xc0 | (reg & 7) << 3 | (r.code & 7))
        case .memory(let r, let displacement):
            let low = r.code & 7
            let mod: UInt8 = displacement == 0 && low != 5 ? 0 : Int8(exactly: displacement) != nil ? 0x40 : 0x80
            code.append(mod | (reg & 7) << 3 | low)
            if low == 4 { code.append(0x24) }  // SIB: base only
            if mod == 0x40 { code.append(UInt8(bitPattern: Int8(truncatingIfNeeded: displacement))) }
            if mod == 0x80 { append32(UInt32(bitPattern: displacement)) }
        }
    }

    mutating func append8(_ value: UInt8) { code.append(value) }

    mutating func append32(_ value: UInt32) {
        for shift in stride(from: UInt32(0), to: 32, by: 8) { code.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    mutating func append64(_ value: UInt64) {
        append32(UInt32(truncatingIfNeeded: value))
        append32(UInt32(truncatingIfNeeded: value >> 32))
    }

    // MARK: Common instructions

    /// `op rm, reg` for the two-operand ALU group (add 01, or 09, and 21, sub 29, xor 31, cmp 39, mov 89, test 85).
    mutating func alu(_ opcode: UInt8, _ rm: X86Operand, _ reg: X86Register, wide: Bool) {
        emit(opcode, wide: wide, reg: reg.code, rm)
    }

    /// `op rm, imm` for the immediate ALU group: /0 add, /1 or, /4 and, /5 sub, /6 xor, /7 cmp.
    mutating func alu(extension ext: UInt8, _ rm: X86Operand, immediate: Int32, wide: Bool) {
        if let small = Int8(exactly: immediate) {
            emit(0x83, wide: wide, reg: ext, rm)
            code.append(UInt8(bitPattern: small))
        } else {
            emit(0x81, wide: wide, reg: ext, rm)
            append32(UInt32(bitPattern: immediate))
        }
    }

    mutating func move(_ dst: X86Register, _ src: X86Register, wide: Bool) {
        emit(0x89, wide: wide, reg: src.code, .register(dst))
    }

    mutating func load(_ dst: X86Register, _ source: X86Operand) {
        emit(0x8b, wide: true, reg: dst.code, source)
    }

    mutating func store(_ source: X86Register, _ destination: X86Operand) {
        emit(0x89, wide: true, reg: source.code, destination)
    }

    /// The shortest move of a 64-bit constant.
    mutating func move(_ dst: X86Register, constant: UInt64) {
        if constant == 0 {
            emit(0x31, wide: false, reg: dst.code, .register(dst))
        } else if constant <= UInt64(UInt32.max) {
            move32(dst, constant: UInt32(constant))
        } else if let small = Int32(exactly: Int64(bitPattern: constant)) {
            emit(0xc7, wide: true, reg: 0, .register(dst))
            append32(UInt32(bitPattern: small))
        } else {
            code.append(0x48 | (dst.code >= 8 ? 1 : 0))
            code.append(0xb8 | (dst.code & 7))
            append64(constant)
        }
    }

    /// `mov r32, imm32`: zero-extends, as every 32-bit write does.
    mutating func move32(_ dst: X86Register, constant: UInt32) {
        if dst.code >= 8 { code.append(0x41) }
        code.append(0xb8 | (dst.code & 7))
        append32(constant)
    }

    /// `mov dword/qword [m], imm32` (the qword form sign-extends).
    mutating func store(constant: Int32, _ destination: X86Operand, wide: Bool) {
        emit(0xc7, wide: wide, reg: 0, destination)
        append32(UInt32(bitPattern: constant))
    }

    mutating func push(_ register: X86Register) {
        if register.code >= 8 { code.append(0x41) }
        code.append(0x50 | (register.code & 7))
    }

    mutating func pop(_ register: X86Register) {
        if register.code >= 8 { code.append(0x41) }
        code.append(0x58 | (register.code & 7))
    }

    mutating func lea(_ dst: X86Register, _ base: X86Register, _ displacement: Int32) {
        emit(0x8d, wide: true, reg: dst.code, .memory(base, displacement))
    }

    mutating func ret() { code.append(0xc3) }
}

/// The growing machine code: a plain buffer, so that emitting a byte is a store and an
/// increment (a Swift array checks its uniqueness on every append).
struct CodeBuffer {
    /// Owns the memory; frees it when the last copy of the buffer goes.
    private final class Storage {
        var pointer: UnsafeMutablePointer<UInt8>
        init(capacity: Int) { pointer = .allocate(capacity: capacity) }
        deinit { pointer.deallocate() }
    }

    private let storage: Storage
    private var pointer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        storage = Storage(capacity: self.capacity)
        pointer = storage.pointer
    }

    var array: [UInt8] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity { grow() }
        pointer[count] = byte
        count += 1
    }

    subscript(position: Int) -> UInt8 {
        get { pointer[position] }
        set { pointer[position] = newValue }
    }

    @inline(never)
    private mutating func grow() {
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
        larger.initialize(from: pointer, count: count)
        storage.pointer.deallocate()
        storage.pointer = larger
        pointer = larger
        capacity *= 2
    }
}
