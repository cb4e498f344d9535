import ClassicBPF

/// Random programs the kernel accepts, built to reach every opcode and the edges of the
/// semantics: loads near and past the packet's end, X near 2^32, shifts by 32 and more,
/// division by an X of 0, jumps of every length and, for Linux, ancillary fields and
/// loads below SKF_NET_OFF and SKF_LL_OFF.
enum RandomClassicPrograms {
    static func program(using g: inout SeededGenerator, linux: Bool, maxLength: Int = 60) -> ClassicProgram? {
        let instructions = instructions(using: &g, linux: linux, maxLength: maxLength)
        return try? ClassicProgram(instructions)
    }

    static func instructions(using g: inout SeededGenerator, linux: Bool, maxLength: Int = 60) -> [ClassicInstruction] {
        func random<T: FixedWidthInteger>(_: T.Type) -> T { T.random(in: T.min...T.max, using: &g) }
        func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &g) < percent }
        func size() -> LoadSize { LoadSize.allCases[Int.random(in: 0..<3, using: &g)] }
        func offset() -> UInt32 {
            if chance(80) { return UInt32.random(in: 0...90, using: &g) }
            if linux, chance(60) {
                let base = [AncillaryField.networkHeaderOffset, AncillaryField.linkLayerHeaderOffset][Int.random(in: 0...1, using: &g)]
                return UInt32(bitPattern: base &+ Int32.random(in: -2...40, using: &g))
            }
            return chance(50) ? random(UInt32.self) : 0x7fff_fff0 &+ UInt32.random(in: 0...40, using: &g)
        }
        func constant() -> UInt32 { chance(60) ? UInt32.random(in: 0...300, using: &g) : random(UInt32.self) }

        var written: [UInt32] = []
        var program: [ClassicInstruction] = []
        for slot in 0..<16 where chance(40) {
            program.append(chance(50) ? .loadA(.constant(constant())) : .loadX(.constant(constant())))
            program.append(chance(50) ? .storeA(scratch: UInt32(slot)) : .storeX(scratch: UInt32(slot)))
            written.append(UInt32(slot))
        }
        let length = Int.random(in: 1...maxLength, using: &g)
        let total = program.count + length
        while program.count < total - 1 {
            let index = program.count
            let room = total - 1 - index - 1  // instructions between the next one and the last
            switch Int.random(in: 0..<23, using: &g) {
            case 0, 1:
                if linux, chance(25), let field = AncillaryField.allCases.randomElement(using: &g) {
                    program.append(.loadAncillary(field, size: size()))
                } else {
                    program.append(.loadA(.packet(size(), offset: offset())))
                }
            case 2: program.append(.loadA(.packetIndexed(size(), offset: offset())))
            case 3: program.append(chance(50) ? .loadA(.length) : .loadX(.length))
            case 4: program.append(.loadA(.constant(constant())))
            case 5:
                if let slot = written.randomElement(using: &g) {
                    program.append(chance(50) ? .loadA(.scratch(slot)) : .loadX(.scratch(slot)))
                } else {
                    program.append(.txa)
                }
            case 6:
                let value: UInt32 = chance(70) ? UInt32.random(in: 0...40, using: &g)
                    : [0xffff_ffff, 0xffff_fffe, 0x8000_0000, 0x7fff_ffff, 32, 33, random(UInt32.self)].randomElement(using: &g) ?? 0
                program.append(.loadX(.constant(value)))
            case 7: program.append(.loadX(.headerLength(offset: offset())))
            case 8: program.append(chance(50) ? .storeA(scratch: UInt32.random(in: 0...15, using: &g))
                                              : .storeX(scratch: UInt32.random(in: 0...15, using: &g)))
            case 9, 10, 11:
                let operation = ClassicArithmetic.allCases.randomElement(using: &g) ?? .add
                var k = constant()
                switch operation {
                case .div, .mod: k = max(k, 1)
                case .lsh, .rsh: k %= 32
                default: break
                }
                program.append(.arithmetic(operation, .constant(k)))
            case 12, 13:
                program.append(.arithmetic(ClassicArithmetic.allCases.randomElement(using: &g) ?? .add, .x))
            case 14: program.append([.negate, .tax, .txa].randomElement(using: &g) ?? .tax)
            case 15:
                program.append(.jump(offset: UInt32.random(in: 0...UInt32(max(room, 0)), using: &g)))
            case 16, 17, 18, 19:
                let reach = min(room, 255)
                let condition = ClassicCondition.allCases.randomElement(using: &g) ?? .eq
                let operand: ClassicOperand = chance(70) ? .constant(constant()) : .x
                program.append(.branch(condition, operand, jumpTrue: UInt8.random(in: 0...UInt8(max(reach, 0)), using: &g),
                                       jumpFalse: UInt8.random(in: 0...UInt8(max(reach, 0)), using: &g)))
            case 20: program.append(.ret(chance(50) ? .a : .constant(constant())))
            default:
                program.append(.loadA(.packet(size(), offset: UInt32.random(in: 0...70, using: &g))))
            }
        }
        program.append(.ret(chance(60) ? .a : .constant(constant())))
        return program
    }
}
