/// Prints instructions as assembly text that `Assembler` reads back to the same bytes.
/// Jumps and calls print their relative offset (`+3`, `-2`), immediates print in signed
/// decimal and `lddw` constants in hex.
public enum Disassembler {
    /// One instruction, without a label or a newline.
    public static func text(of instruction: Instruction, syntax: AssemblySyntax) -> String {
        switch syntax {
        case .conformance: conformanceText(of: instruction)
        case .kernel: kernelText(of: instruction)
        }
    }

    /// The whole program, one instruction per line, each line ending in a newline.
    public static func disassemble(_ program: Program, syntax: AssemblySyntax) -> String {
        var text = ""
        text.reserveCapacity(program.instructions.count * 24)
        for (_, instruction) in program.instructions {
            text += Self.text(of: instruction, syntax: syntax)
            text += "\n"
        }
        return text
    }

    // MARK: Conformance syntax

    private static func conformanceText(of instruction: Instruction) -> String {
        func reg(_ register: Register) -> String { "%r\(register.rawValue)" }
        func operand(_ operand: Operand) -> String {
            switch operand {
            case .register(let register): reg(register)
            case .immediate(let imm): String(imm)
            }
        }
        func memory(_ base: Register, _ offset: Int16) -> String { "[\(reg(base))\(signed(offset))]" }
        func suffix(_ width: Width) -> String { width == .bits32 ? "32" : "" }

        switch instruction {
        case .arithmetic(let op, let width, let dst, let source):
            return "\(op.conformanceName)\(suffix(width)) \(reg(dst)), \(operand(source))"
        case .negate(let width, let dst):
            return "neg\(suffix(width)) \(reg(dst))"
        case .moveSignExtend(let width, let dst, let src, let bits):
            return "movsx\(bits)\(width == .bits32 ? "32" : "64") \(reg(dst)), \(reg(src))"
        case .byteSwap(let kind, let bits, let dst):
            return "\(kind.name)\(bits) \(reg(dst))"
        case .load(let size, let dst, let base, let offset):
            return "ldx\(size.conformanceSuffix) \(reg(dst)), \(memory(base, offset))"
        case .loadSignExtend(let size, let dst, let base, let offset):
            return "ldxs\(size.conformanceSuffix) \(reg(dst)), \(memory(base, offset))"
        case .store(let size, let base, let offset, .immediate(let imm)):
            return "st\(size.conformanceSuffix) \(memory(base, offset)), \(imm)"
        case .store(let size, let base, let offset, .register(let src)):
            return "stx\(size.conformanceSuffix) \(memory(base, offset)), \(reg(src))"
        case .atomic(let op, let size, let base, let offset, let src):
            let fetch = op.fetches && op != .exchange && op != .compareExchange ? "fetch " : ""
            return "lock \(fetch)\(op.conformanceName)\(size == .word ? "32" : "") \(memory(base, offset)), \(reg(src))"
        case .loadAcquire(let size, let dst, let base, let offset):
            return "ldxacq\(size.conformanceSuffix) \(reg(dst)), \(memory(base, offset))"
        case .storeRelease(let size, let base, let offset, let src):
            return "stxrel\(size.conformanceSuffix) \(memory(base, offset)), \(reg(src))"
        case .loadImmediate64(let dst, let source, let imm, let nextImm):
            return "lddw \(reg(dst)), \(pseudoSourceText(source, imm: imm, nextImm: nextImm))"
        case .loadPacket(let size, nil, let imm):
            return "ldabs\(size.conformanceSuffix) \(imm)"
        case .loadPacket(let size, let index?, let imm):
            return "ldind\(size.conformanceSuffix) \(reg(index)), \(imm)"
        case .jump(let offset):
            return "ja \(signed(offset))"
        case .jumpLong(let offset):
            return "ja32 \(signed(offset))"
        case .branch(let condition, let width, let dst, let source, let offset):
            return "\(condition.conformanceName)\(suffix(width)) \(reg(dst)), \(operand(source)), \(signed(offset))"
        case .call(let helper):
            return "call \(helper)"
        case .callLocal(let offset):
            return "call local \(signed(offset))"
        case .callKernelFunction(let btfID, let module):
            return "call \(kernelFunctionText(btfID: btfID, module: module))"
        case .callRegister(let register):
            return "call \(reg(register))"
        case .exit:
            return "exit"
        case .mayGoto(let offset):
            return "may_goto \(signed(offset))"
        }
    }

    // MARK: Kernel syntax

    private static func kernelText(of instruction: Instruction) -> String {
        func reg(_ register: Register, _ width: Width = .bits64) -> String {
            width == .bits32 ? "w\(register.rawValue)" : "r\(register.rawValue)"
        }
        func operand(_ operand: Operand, _ width: Width) -> String {
            switch operand {
            case .register(let register): reg(register, width)
            case .immediate(let imm): String(imm)
            }
        }
        func address(_ base: Register, _ offset: Int16) -> String {
            offset < 0 ? "(r\(base.rawValue) - \(-Int(offset)))" : "(r\(base.rawValue) + \(offset))"
        }
        func typed(_ size: MemorySize, _ base: Register, _ offset: Int16) -> String {
            "(\(size.unsignedTypeName) *)\(address(base, offset))"
        }
        func atomicWidth(_ size: MemorySize) -> Width { size == .word ? .bits32 : .bits64 }

        switch instruction {
        case .arithmetic(let op, let width, let dst, let source):
            return "\(reg(dst, width)) \(op.kernelOperator) \(operand(source, width))"
        case .negate(let width, let dst):
            return "\(reg(dst, width)) = -\(reg(dst, width))"
        case .moveSignExtend(let width, let dst, let src, let bits):
            return "\(reg(dst, width)) = (s\(bits))\(reg(src, width))"
        case .byteSwap(let kind, let bits, let dst):
            return "\(reg(dst)) = \(kind.name)\(bits) \(reg(dst))"
        case .load(let size, let dst, let base, let offset):
            return "\(reg(dst)) = *\(typed(size, base, offset))"
        case .loadSignExtend(let size, let dst, let base, let offset):
            return "\(reg(dst)) = *(\(size.signedTypeName) *)\(address(base, offset))"
        case .store(let size, let base, let offset, let source):
            return "*\(typed(size, base, offset)) = \(operand(source, .bits64))"
        case .atomic(let op, let size, let base, let offset, let src):
            let width = atomicWidth(size)
            switch op {
            case .add, .or, .and, .xor:
                return "lock *\(typed(size, base, offset)) \(op.kernelOperator) \(reg(src, width))"
            case .fetchAdd, .fetchOr, .fetchAnd, .fetchXor:
                return "\(reg(src, width)) = atomic_fetch_\(op.conformanceName)(\(typed(size, base, offset)), \(reg(src, width)))"
            case .exchange:
                let name = size == .word ? "xchg32_32" : "xchg_64"
                return "\(reg(src, width)) = \(name)(\(address(base, offset).dropFirst().dropLast()), \(reg(src, width)))"
            case .compareExchange:
                let name = size == .word ? "cmpxchg32_32" : "cmpxchg_64"
                let r0 = reg(.r0, width)
                return "\(r0) = \(name)(\(address(base, offset).dropFirst().dropLast()), \(r0), \(reg(src, width)))"
            }
        case .loadAcquire(let size, let dst, let base, let offset):
            return "\(reg(dst)) = load_acquire(\(typed(size, base, offset)))"
        case .storeRelease(let size, let base, let offset, let src):
            return "store_release(\(typed(size, base, offset)), \(reg(src)))"
        case .loadImmediate64(let dst, .immediate, let imm, let nextImm):
            return "\(reg(dst)) = \(pseudoSourceText(.immediate, imm: imm, nextImm: nextImm)) ll"
        case .loadImmediate64(let dst, let source, let imm, let nextImm):
            return "\(reg(dst)) = \(pseudoSourceText(source, imm: imm, nextImm: nextImm))"
        case .loadPacket(let size, nil, let imm):
            return "r0 = *(\(size.unsignedTypeName) *)skb[\(imm)]"
        case .loadPacket(let size, let index?, let imm):
            let offset = imm < 0 ? "- \(-Int64(imm))" : "+ \(imm)"
            return "r0 = *(\(size.unsignedTypeName) *)skb[\(reg(index)) \(offset)]"
        case .jump(let offset):
            return "goto \(signed(offset))"
        case .jumpLong(let offset):
            return "gotol \(signed(offset))"
        case .branch(let condition, let width, let dst, let source, let offset):
            return "if \(reg(dst, width)) \(condition.kernelOperator) \(operand(source, width)) goto \(signed(offset))"
        case .call(let helper):
            return "call \(helper)"
        case .callLocal(let offset):
            return "call pc\(signed(offset))"
        case .callKernelFunction(let btfID, let module):
            return "call \(kernelFunctionText(btfID: btfID, module: module))"
        case .callRegister(let register):
            return "callx \(reg(register))"
        case .exit:
            return "exit"
        case .mayGoto(let offset):
            return "may_goto \(signed(offset))"
        }
    }

    // MARK: Shared pieces

    /// `+3`, `-2`, `+0`.
    private static func signed<T: BinaryInteger>(_ value: T) -> String { value < 0 ? "\(value)" : "+\(value)" }

    private static func pseudoSourceText(_ source: PseudoSource, imm: Int32, nextImm: Int32) -> String {
        let valueOffset = UInt32(bitPattern: nextImm)
        switch source {
        case .immediate:
            return "0x" + String(Instruction.immediate64(imm: imm, nextImm: nextImm), radix: 16)
        case .mapFD: return "map[fd:\(imm)]"
        case .mapIndex: return "map[idx:\(imm)]"
        case .mapValue: return "map_value[fd:\(imm)]" + (valueOffset == 0 ? "" : "+\(valueOffset)")
        case .mapIndexValue: return "map_value[idx:\(imm)]" + (valueOffset == 0 ? "" : "+\(valueOffset)")
        case .btfID: return nextImm == 0 ? "btf_var[id:\(imm)]" : "btf_var[id:\(imm), fd:\(nextImm)]"
        case .function: return "func[\(signed(imm))]"
        }
    }

    private static func kernelFunctionText(btfID: Int32, module: Int16) -> String {
        module == 0 ? "kfunc[id:\(btfID)]" : "kfunc[id:\(btfID), module:\(module)]"
    }
}

extension ArithmeticOperation {
    var conformanceName: String {
        switch self {
        case .add: "add"
        case .sub: "sub"
        case .mul: "mul"
        case .div: "div"
        case .sdiv: "sdiv"
        case .or: "or"
        case .and: "and"
        case .lsh: "lsh"
        case .rsh: "rsh"
        case .mod: "mod"
        case .smod: "smod"
        case .xor: "xor"
        case .mov: "mov"
        case .arsh: "arsh"
        }
    }

    var kernelOperator: String {
        switch self {
        case .add: "+="
        case .sub: "-="
        case .mul: "*="
        case .div: "/="
        case .sdiv: "s/="
        case .or: "|="
        case .and: "&="
        case .lsh: "<<="
        case .rsh: ">>="
        case .mod: "%="
        case .smod: "s%="
        case .xor: "^="
        case .mov: "="
        case .arsh: "s>>="
        }
    }
}

extension JumpCondition {
    var conformanceName: String {
        switch self {
        case .eq: "jeq"
        case .gt: "jgt"
        case .ge: "jge"
        case .set: "jset"
        case .ne: "jne"
        case .sgt: "jsgt"
        case .sge: "jsge"
        case .lt: "jlt"
        case .le: "jle"
        case .slt: "jslt"
        case .sle: "jsle"
        }
    }

    var kernelOperator: String {
        switch self {
        case .eq: "=="
        case .gt: ">"
        case .ge: ">="
        case .set: "&"
        case .ne: "!="
        case .sgt: "s>"
        case .sge: "s>="
        case .lt: "<"
        case .le: "<="
        case .slt: "s<"
        case .sle: "s<="
        }
    }
}

extension ByteSwapKind {
    /// `le`, `be` or `bswap`, before the width.
    var name: String {
        switch self {
        case .toLittleEndian: "le"
        case .toBigEndian: "be"
        case .swap: "bswap"
        }
    }
}

extension AtomicOperation {
    /// The operation without its fetch flag: add, or, and, xor, xchg, cmpxchg.
    var conformanceName: String {
        switch self {
        case .add, .fetchAdd: "add"
        case .or, .fetchOr: "or"
        case .and, .fetchAnd: "and"
        case .xor, .fetchXor: "xor"
        case .exchange: "xchg"
        case .compareExchange: "cmpxchg"
        }
    }

    var kernelOperator: String {
        switch self {
        case .add, .fetchAdd: "+="
        case .or, .fetchOr: "|="
        case .and, .fetchAnd: "&="
        case .xor, .fetchXor: "^="
        case .exchange, .compareExchange: "="
        }
    }
}
