/// The interpreter's form of one instruction: a dense operation for the dispatch switch,
/// with what needs a slow path (loads at 2^31 and up) told apart at init, and a packet load
/// or an `and` followed by a conditional jump on a constant (most of what tcpdump emits)
/// fused into one step, so such pairs pay for one dispatch.
struct Step {
    /// The operand: offset, constant, scratch index or jump distance.
    var k: UInt32
    /// The constant a fused load-and-jump compares with.
    var k2: UInt32 = 0
    /// Steps to skip after this one when the condition holds / does not.
    var jt: UInt16 = 0
    var jf: UInt16 = 0
    var op: Operation

    enum Operation: UInt8 {
        case retK, retA
        case ldAbsW, ldAbsH, ldAbsB, ldIndW, ldIndH, ldIndB, ldOutside, ldLen, ldImm, ldMem
        case ldxImm, ldxLen, ldxMem, ldxMsh, ldxMshOutside, st, stx
        case ja, jeqK, jeqX, jgtK, jgtX, jgeK, jgeX, jsetK, jsetX
        case addK, addX, subK, subX, mulK, mulX, divK, divX, modK, modX
        case andK, andX, orK, orX, xorK, xorX, lshK, lshX, rshK, rshX, neg, tax, txa
        // A load, then a jump on A against k2: absolute or indexed, by size and condition.
        // `and #k` then a jump on A against k2 (masks: tcpflags, fragment bits).
        case andEq, andGt, andGe, andSet
        case absWordEq, absWordGt, absWordGe, absWordSet, absHalfEq, absHalfGt, absHalfGe, absHalfSet, absByteEq, absByteGt, absByteGe, absByteSet, indWordEq, indWordGt, indWordGe, indWordSet, indHalfEq, indHalfGt, indHalfGe, indHalfSet, indByteEq, indByteGt, indByteGe, indByteSet
    }

    init(op: Operation, k: UInt32 = 0, jt: UInt8 = 0, jf: UInt8 = 0) {
        self.op = op
        self.k = k
        self.jt = UInt16(jt)
        self.jf = UInt16(jf)
    }

    /// One step per instruction, so jump distances stay as they are; a fused step stands in
    /// for its load and the jump after it keeps its own step for jumps that land there.
    static func compile(_ program: [ClassicInstruction]) -> [Step] {
        var steps = program.map(Step.init)
        for index in program.indices.dropLast() {
            guard case .branch(let condition, .constant(let constant), let jt, let jf) = program[index + 1],
                  let fused = fused(program[index], condition) else { continue }
            steps[index] = Step(op: fused.op, k: fused.k)
            steps[index].k2 = constant
            steps[index].jt = UInt16(jt) + 1
            steps[index].jf = UInt16(jf) + 1
        }
        return steps
    }

    private static func fused(_ load: ClassicInstruction, _ condition: ClassicCondition) -> (op: Operation, k: UInt32)? {
        let table: [Operation]
        let k: UInt32
        switch load {
        case .loadA(.packet(let size, let offset)) where offset < 0x8000_0000:
            k = offset
            table = switch size {
            case .word: [.absWordEq, .absWordGt, .absWordGe, .absWordSet]
            case .half: [.absHalfEq, .absHalfGt, .absHalfGe, .absHalfSet]
            case .byte: [.absByteEq, .absByteGt, .absByteGe, .absByteSet]
            }
        case .loadA(.packetIndexed(let size, let offset)):
            k = offset
            table = switch size {
            case .word: [.indWordEq, .indWordGt, .indWordGe, .indWordSet]
            case .half: [.indHalfEq, .indHalfGt, .indHalfGe, .indHalfSet]
            case .byte: [.indByteEq, .indByteGt, .indByteGe, .indByteSet]
            }
        case .arithmetic(.and, .constant(let mask)):
            k = mask
            table = [.andEq, .andGt, .andGe, .andSet]
        default:
            return nil
        }
        let position = switch condition {
        case .eq: 0
        case .gt: 1
        case .ge: 2
        case .set: 3
        }
        return (table[position], k)
    }

    init(_ instruction: ClassicInstruction) {
        let outside: UInt32 = 0x8000_0000
        switch instruction {
        case .ret(.constant(let k)): self.init(op: .retK, k: k)
        case .ret(.a): self.init(op: .retA)
        case .loadA(.packet(let size, let k)) where k >= outside:
            self.init(op: .ldOutside, k: k, jt: UInt8(size.byteCount))
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
        case .jump(let k): self.init(op: .ja, k: k)
        case .branch(let condition, let operand, let jt, let jf):
            let op: Operation = switch (condition, operand) {
            case (.eq, .constant): .jeqK
            case (.eq, .x): .jeqX
            case (.gt, .constant): .jgtK
            case (.gt, .x): .jgtX
            case (.ge, .constant): .jgeK
            case (.ge, .x): .jgeX
            case (.set, .constant): .jsetK
            case (.set, .x): .jsetX
            }
            if case .constant(let k) = operand { self.init(op: op, k: k, jt: jt, jf: jf) } else { self.init(op: op, jt: jt, jf: jf) }
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
}
