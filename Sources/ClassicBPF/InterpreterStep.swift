/// The interpreter's form of one instruction, decoded once at init so that the run loop
/// does no decoding of its own: a dense operation for the dispatch switch, its operands
/// already split out, jump targets as byte distances from the step, and what needs a slow
/// path (loads at 2^31 and up) told apart. The shapes tcpdump emits most are fused into one
/// step so they pay for one dispatch: a load then a conditional jump on a constant
/// (`ldh [12]; jeq #0x800`), an `and #k` then a jump (`and #0x1fff; jeq #0`), `ld #len`
/// then a jump (`greater 100`), and the IPv4 header length then a load past it (`ldxb
/// 4*([14]&0xf); ldh [x + 16]`), with the jump after it when there is one.
struct Step {
    var op: Operation
    /// The operand: offset, constant, mask or scratch index.
    var k: UInt32 = 0
    /// The offset of the IPv4 header in a fused `ldxb 4*([k]&0xf)`; the size of a load
    /// on the slow path.
    var k3: UInt32 = 0
    /// What a fused load keeps of the value it loads: the `and #mask` after it.
    var mask: UInt32 = .max
    /// The condition of a jump on A against a constant.
    var comparison = Comparison(.eq, 0)
    /// When `comparison` fails and the jump lands on another jump on A against a constant,
    /// that jump's condition, tried in the same step (`jeq #0x8100 ... jeq #0x88a8`).
    var second = Comparison.never
    /// Bytes from this step to the next one when the condition holds / does not; fused
    /// steps without a jump go on at `jt`, other steps at the next one.
    var jt: Int32 = 0
    var jf: Int32 = 0
    /// Bytes to the next step when `second` holds.
    var jt2: Int32 = 0

    enum Operation: UInt8, CaseIterable {
        case retK, retA
        case ldAbsW, ldAbsH, ldAbsB, ldIndW, ldIndH, ldIndB, ldOutside, ldLen, ldImm, ldMem
        case ldxImm, ldxLen, ldxMem, ldxMsh, ldxMshOutside, st, stx
        case ja, jeqX, jgtX, jgeX, jsetX
        case addK, addX, subK, subX, mulK, mulX, divK, divX, modK, modX
        case andK, andX, orK, orX, xorK, xorX, lshK, lshX, rshK, rshX, neg, tax, txa
        /// A jump on A against a constant, by `comparison`.
        case jumpK
        // Fused: the instructions before a jump on A against a constant, then the jump.
        case absWordJump, absHalfJump, absByteJump
        /// An absolute load then `jeq #k` with no mask: a plain compare, not the range check.
        case absWordEqual, absHalfEqual, absByteEqual
        case indWordJump, indHalfJump, indByteJump
        case mshWordJump, mshHalfJump, mshByteJump, andJump, lenJump
        // Fused without a jump: `ldxb 4*([k3]&0xf); ld [x + k]`.
        case mshWord, mshHalf, mshByte

        /// Whether the step stands for more than one instruction.
        var isFused: Bool { rawValue >= Operation.absWordJump.rawValue }

        /// The size a fused header-length step loads.
        var loadSize: LoadSize? {
            switch self {
            case .mshWordJump: .word
            case .mshHalfJump: .half
            case .mshByteJump: .byte
            default: nil
            }
        }

        /// Whether the step ends in a jump on A against a constant.
        var comparesWithConstant: Bool { rawValue >= Operation.jumpK.rawValue && rawValue <= Operation.lenJump.rawValue }
    }

    /// The steps of a valid program: one per instruction, so that jumps keep their
    /// targets. A fused step stands in for the first instruction of its shape; the
    /// instructions after it keep their own steps for the jumps that land on them.
    static func compile(_ program: [ClassicInstruction]) -> [Step] {
        var steps: [Step] = []
        steps.reserveCapacity(program.count)
        for index in program.indices {
            // A jump lands jt or jf instructions after the one that follows it.
            var step: Step
            if let (fused, covered) = fusion(program, at: index) {
                step = fused
                step.jt += Int32(covered)
                step.jf += Int32(covered)
            } else {
                step = Step(program[index])
                step.jt += 1
                step.jf += 1
            }
            steps.append(step)
        }
        // Distances are in steps so far. Steps read before they change: the second
        // condition is the target's own, and its targets are its own.
        for index in steps.indices where steps[index].op.comparesWithConstant {
            let target = index + Int(steps[index].jf)
            guard steps[target].op == .jumpK else { continue }
            steps[index].second = steps[target].comparison
            steps[index].jt2 = Int32(target - index) + steps[target].jt
            steps[index].jf = Int32(target - index) + steps[target].jf
        }
        let stride = Int32(MemoryLayout<Step>.stride)
        for index in steps.indices {
            steps[index].jt *= stride
            steps[index].jf *= stride
            steps[index].jt2 *= stride
        }
        return steps
    }

    /// The fused step for the shape that starts at `index`, with the number of
    /// instructions it covers; jt and jf are still those of its jump, 0 without one. The
    /// shapes: `ldxb 4*([k3]&0xf)` then `ld [x + k]`; or a packet load or `ld #len`; then
    /// an optional `and #mask`, then a jump on A against a constant, which only the first
    /// shape may go without. `and #k` then such a jump is a shape of its own.
    private static func fusion(_ program: [ClassicInstruction], at index: Int) -> (Step, Int)? {
        func instruction(_ position: Int) -> ClassicInstruction? {
            position < program.count ? program[position] : nil
        }
        var next = index
        var header: UInt32?
        if case .loadX(.headerLength(let offset)) = program[index], offset < 0x8000_0000,
           case .loadA(.packetIndexed) = instruction(index + 1) {
            header = offset
            next += 1
        }
        var step: Step
        switch (instruction(next), header) {
        case (.loadA(.packet(let size, let offset)), nil) where offset < 0x8000_0000:
            step = Step(op: size.pick(.absWordJump, .absHalfJump, .absByteJump), k: offset)
        case (.loadA(.packetIndexed(let size, let offset)), nil):
            step = Step(op: size.pick(.indWordJump, .indHalfJump, .indByteJump), k: offset)
        case (.loadA(.packetIndexed(let size, let offset)), .some(let header)):
            step = Step(op: size.pick(.mshWordJump, .mshHalfJump, .mshByteJump), k: offset)
            step.k3 = header
        case (.loadA(.length), nil):
            step = Step(op: .lenJump)
        case (.arithmetic(.and, .constant(let mask)), nil):
            step = Step(op: .andJump, k: mask)
        default:
            return nil
        }
        next += 1
        if step.op != .andJump, case .arithmetic(.and, .constant(let mask)) = instruction(next) {
            step.mask = mask
            next += 1
        }
        if case .branch(let condition, .constant(let constant), let jt, let jf) = instruction(next) {
            step.comparison = Comparison(condition, constant)
            step.jt = Int32(jt)
            step.jf = Int32(jf)
            if condition == .eq, step.mask == .max, header == nil,
               case .loadA(.packet(let size, _)) = program[next - 1] {
                step.op = size.pick(.absWordEqual, .absHalfEqual, .absByteEqual)
            }
            return (step, next + 1 - index)
        }
        guard let size = step.op.loadSize, header != nil else { return nil }
        step.op = size.pick(.mshWord, .mshHalf, .mshByte)
        return (step, next - index)
    }

    init(op: Operation, k: UInt32 = 0, comparison: Comparison = Comparison(.eq, 0), jt: Int32 = 0, jf: Int32 = 0) {
        self.op = op
        self.k = k
        self.comparison = comparison
        self.jt = jt
        self.jf = jf
    }

    /// The unfused step; jt and jf as encoded, 0 for steps without a jump.
    init(_ instruction: ClassicInstruction) {
        let outside: UInt32 = 0x8000_0000
        switch instruction {
        case .ret(.constant(let k)): self.init(op: .retK, k: k)
        case .ret(.a): self.init(op: .retA)
        case .loadA(.packet(let size, let k)) where k >= outside:
            self.init(op: .ldOutside, k: k)
            k3 = UInt32(size.byteCount)
        case .loadA(.packet(.word, let k)): self.init(op: .ldAbsW, k: k)
        case .loadA(.packet(.half, let k)): self.init(op: .ldAbsH, k: k)
        case .loadA(.packet(.byte, let k)): self.init(op: .ldAbsB, k: k)
        case .loadA(.packetIndexed(.word, let k)): self.init(op: .ldIndW, k: k)
        case .loadA(.packetIndexed(.half, let k)): self.init(op: .ldIndH, k: k)
        case .loadA(.packetIndexed(.byte, let k)): self.init(op: .ldIndB, k: k)
        case .loadA(.length): self.init(op: .ldLen)
        case .loadA(.constant(let k)): self.init(op: .ldImm, k: k)
        case .loadA(.scratch(let k)): self.init(op: .ldMem, k: k & 15)
        case .loadX(.constant(let k)): self.init(op: .ldxImm, k: k)
        case .loadX(.length): self.init(op: .ldxLen)
        case .loadX(.scratch(let k)): self.init(op: .ldxMem, k: k & 15)
        case .loadX(.headerLength(let k)): self.init(op: k >= outside ? .ldxMshOutside : .ldxMsh, k: k)
        case .storeA(let k): self.init(op: .st, k: k & 15)
        case .storeX(let k): self.init(op: .stx, k: k & 15)
        // Both distances the same, so `ja` takes the loop's branch path without a condition.
        case .jump(let k): self.init(op: .ja, jt: Int32(truncatingIfNeeded: k), jf: Int32(truncatingIfNeeded: k))
        case .branch(let condition, .constant(let k), let jt, let jf):
            self.init(op: .jumpK, comparison: Comparison(condition, k), jt: Int32(jt), jf: Int32(jf))
        case .branch(let condition, .x, let jt, let jf):
            let op: Operation = switch condition {
            case .eq: .jeqX
            case .gt: .jgtX
            case .ge: .jgeX
            case .set: .jsetX
            }
            self.init(op: op, jt: Int32(jt), jf: Int32(jf))
        case .arithmetic(let operation, .constant(let k)):
            let op: Operation = switch operation {
            case .add: .addK
            case .sub: .subK
            case .mul: .mulK
            case .div: .divK
            case .mod: .modK
            case .and: .andK
            case .or: .orK
            case .xor: .xorK
            case .lsh: .lshK
            case .rsh: .rshK
            }
            // Validation refuses these; dropping the packet keeps a stray one harmless.
            if (operation == .div || operation == .mod) && k == 0 { self.init(op: .retK, k: 0); return }
            if (operation == .lsh || operation == .rsh) && k >= 32 { self.init(op: .ldImm, k: 0); return }
            self.init(op: op, k: k)
        case .arithmetic(let operation, .x):
            let op: Operation = switch operation {
            case .add: .addX
            case .sub: .subX
            case .mul: .mulX
            case .div: .divX
            case .mod: .modX
            case .and: .andX
            case .or: .orX
            case .xor: .xorX
            case .lsh: .lshX
            case .rsh: .rshX
            }
            self.init(op: op)
        case .negate: self.init(op: .neg)
        case .tax: self.init(op: .tax)
        case .txa: self.init(op: .txa)
        }
    }

    /// Whether `instruction` reads or writes the scratch words, which runs then need.
    static func usesScratch(_ instruction: ClassicInstruction) -> Bool {
        switch instruction {
        case .loadA(.scratch), .loadX(.scratch), .storeA, .storeX: true
        default: false
        }
    }
}

/// A condition on A against a constant, in the one form all four take, so that a step
/// needs no second dispatch on the condition: A masked, less `low`, at most `span`
/// (unsigned). `jeq #k` is A = k; `jgt #k` is A in k+1...max (nothing for k = max);
/// `jge #k` is A in k...max; `jset #k` is A & k at least 1.
struct Comparison {
    var mask: UInt32
    var low: UInt32
    var span: UInt32

    init(_ condition: ClassicCondition, _ k: UInt32) {
        switch condition {
        case .eq: (mask, low, span) = (.max, k, 0)
        case .gt where k == .max: (mask, low, span) = (0, 1, 0)
        case .gt: (mask, low, span) = (.max, k + 1, .max - (k + 1))
        case .ge: (mask, low, span) = (.max, k, .max - k)
        case .set: (mask, low, span) = (k, 1, .max - 1)
        }
    }

    /// Holds for no A.
    static let never = Comparison(.gt, .max)

    @inline(__always)
    func holds(_ a: UInt32) -> Bool { (a & mask) &- low <= span }
}

extension LoadSize {
    /// The operation for this size among three.
    func pick(_ word: Step.Operation, _ half: Step.Operation, _ byte: Step.Operation) -> Step.Operation {
        switch self {
        case .word: word
        case .half: half
        case .byte: byte
        }
    }
}

extension UnsafePointer where Pointee == Step {
    /// The step `distance` bytes on.
    @inline(__always)
    func jump(_ distance: Int32) -> UnsafePointer<Step> {
        UnsafeRawPointer(self).advanced(by: Int(distance)).assumingMemoryBound(to: Step.self)
    }

    /// The step a jump on A against a constant goes to, trying the second condition when
    /// the first fails; each side reads only its own distance.
    @inline(__always)
    func branch(on a: UInt32) -> UnsafePointer<Step> {
        if _fastPath(pointee.comparison.holds(a)) { return jump(pointee.jt) }
        if _fastPath(pointee.second.holds(a)) { return jump(pointee.jt2) }
        return jump(pointee.jf)
    }

    /// `branch(on:)` for a first condition that is `jeq #k`: a plain compare with k.
    @inline(__always)
    func branch(equal a: UInt32) -> UnsafePointer<Step> {
        if _fastPath(a == pointee.comparison.low) { return jump(pointee.jt) }
        if _fastPath(pointee.second.holds(a)) { return jump(pointee.jt2) }
        return jump(pointee.jf)
    }

    /// The step a conditional jump goes to; each side reads only its own distance.
    @inline(__always)
    func branch(_ taken: Bool) -> UnsafePointer<Step> {
        if _fastPath(taken) { return jump(pointee.jt) }
        return jump(pointee.jf)
    }
}
