/// Runs a classic program on packets with libpcap's `bpf_filter` semantics: A, X and the
/// scratch words start at 0; a load outside the captured bytes ends the program with 0
/// (drop); so does a division by an X of 0; arithmetic wraps on 32 bits; packet loads are
/// big-endian; a shift by an X of 32 or more gives 0.
///
/// With `AncillaryData` the run follows the Linux socket filter instead where the two
/// differ: absolute loads in the SKF_AD_OFF range read the ancillary fields, negative
/// offsets (SKF_NET_OFF, SKF_LL_OFF, and `[x + k]` whose 32-bit sum is negative) read
/// relative to the headers, `[x + k]` wraps on 32 bits, and shifts by X use X & 31, as the
/// kernel's eBPF form does.
///
/// The program is decoded once, at init; a run allocates nothing and touches no reference
/// counts. Runs share no state, so one interpreter can serve many threads.
public final class ClassicInterpreter: @unchecked Sendable {  // immutable after init
    public let program: ClassicProgram
    private let code: UnsafeMutablePointer<Step>
    private let count: Int

    public init(program: ClassicProgram) {
        self.program = program
        count = program.instructions.count
        code = .allocate(capacity: count)
        for (index, instruction) in program.instructions.enumerated() {
            (code + index).initialize(to: Step(instruction))
        }
    }

    deinit {
        code.deinitialize(count: count)
        code.deallocate()
    }

    /// libpcap semantics. `wireLength` (what `#len` reads) defaults to the packet's length.
    public func run(packet: UnsafeRawBufferPointer, wireLength: UInt32? = nil) -> UInt32 {
        execute(packet, wireLength ?? UInt32(truncatingIfNeeded: packet.count), nil)
    }

    /// Linux socket filter semantics, with `ancillary` answering the ancillary loads.
    public func run(packet: UnsafeRawBufferPointer, wireLength: UInt32? = nil, ancillary: AncillaryData) -> UInt32 {
        withUnsafePointer(to: ancillary) { execute(packet, wireLength ?? UInt32(truncatingIfNeeded: packet.count), $0) }
    }

    /// Runs on an array; libpcap semantics without `ancillary`, Linux with it.
    public func run(packet: [UInt8], wireLength: UInt32? = nil, ancillary: AncillaryData? = nil) -> UInt32 {
        packet.withUnsafeBytes { bytes in
            if let ancillary { return run(packet: bytes, wireLength: wireLength, ancillary: ancillary) }
            return run(packet: bytes, wireLength: wireLength)
        }
    }

    @inline(__always)
    private func execute(_ packet: UnsafeRawBufferPointer, _ wireLength: UInt32,
                         _ ancillary: UnsafePointer<AncillaryData>?) -> UInt32 {
        var scratch: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                      UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
            = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &scratch) { scratchBytes -> UInt32 in
            let m = scratchBytes.bindMemory(to: UInt32.self)
            let length = packet.count
            var a: UInt32 = 0
            var x: UInt32 = 0
            // Validation guarantees forward jumps inside the program and a final ret.
            var pc = UnsafePointer(code)
            while true {
                let s = pc.pointee
                pc += 1
                switch s.op {
                case .retK: return s.k
                case .retA: return a
                case .ldAbsW:
                    guard Int(s.k) &+ 4 <= length else { return 0 }
                    a = UInt32(bigEndian: packet.loadUnaligned(fromByteOffset: Int(s.k), as: UInt32.self))
                case .ldAbsH:
                    guard Int(s.k) &+ 2 <= length else { return 0 }
                    a = UInt32(UInt16(bigEndian: packet.loadUnaligned(fromByteOffset: Int(s.k), as: UInt16.self)))
                case .ldAbsB:
                    guard Int(s.k) < length else { return 0 }
                    a = UInt32(packet[Int(s.k)])
                case .ldIndW:
                    let at = Int(x) &+ Int(s.k)
                    if at &+ 4 <= length {
                        a = UInt32(bigEndian: packet.loadUnaligned(fromByteOffset: at, as: UInt32.self))
                    } else {
                        guard let value = indexedLoad(packet, x, s.k, 4, ancillary) else { return 0 }
                        a = value
                    }
                case .ldIndH:
                    let at = Int(x) &+ Int(s.k)
                    if at &+ 2 <= length {
                        a = UInt32(UInt16(bigEndian: packet.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
                    } else {
                        guard let value = indexedLoad(packet, x, s.k, 2, ancillary) else { return 0 }
                        a = value
                    }
                case .ldIndB:
                    let at = Int(x) &+ Int(s.k)
                    if at < length {
                        a = UInt32(packet[at])
                    } else {
                        guard let value = indexedLoad(packet, x, s.k, 1, ancillary) else { return 0 }
                        a = value
                    }
                case .ldOutside:
                    guard let value = outsideLoad(packet, a, x, s.k, Int(s.jt), ancillary) else { return 0 }
                    a = value
                case .ldLen: a = wireLength
                case .ldImm: a = s.k
                case .ldMem: a = m[Int(s.k)]
                case .ldxImm: x = s.k
                case .ldxLen: x = wireLength
                case .ldxMem: x = m[Int(s.k)]
                case .ldxMsh:
                    guard Int(s.k) < length else { return 0 }
                    x = UInt32(packet[Int(s.k)] & 0xf) << 2
                case .ldxMshOutside:
                    guard let ancillary, let byte = headerLoad(packet, Int32(bitPattern: s.k), 1, ancillary.pointee) else { return 0 }
                    x = (byte & 0xf) << 2
                case .st: m[Int(s.k)] = a
                case .stx: m[Int(s.k)] = x
                case .ja: pc += Int(s.k)
                case .jeqK: pc += Int(a == s.k ? s.jt : s.jf)
                case .jeqX: pc += Int(a == x ? s.jt : s.jf)
                case .jgtK: pc += Int(a > s.k ? s.jt : s.jf)
                case .jgtX: pc += Int(a > x ? s.jt : s.jf)
                case .jgeK: pc += Int(a >= s.k ? s.jt : s.jf)
                case .jgeX: pc += Int(a >= x ? s.jt : s.jf)
                case .jsetK: pc += Int(a & s.k != 0 ? s.jt : s.jf)
                case .jsetX: pc += Int(a & x != 0 ? s.jt : s.jf)
                case .addK: a &+= s.k
                case .addX: a &+= x
                case .subK: a &-= s.k
                case .subX: a &-= x
                case .mulK: a &*= s.k
                case .mulX: a &*= x
                case .divK: a /= s.k
                case .divX:
                    guard x != 0 else { return 0 }
                    a /= x
                case .modK: a %= s.k
                case .modX:
                    guard x != 0 else { return 0 }
                    a %= x
                case .andK: a &= s.k
                case .andX: a &= x
                case .orK: a |= s.k
                case .orX: a |= x
                case .xorK: a ^= s.k
                case .xorX: a ^= x
                case .lshK: a = a &<< s.k
                case .lshX: a = x < 32 ? a << x : (ancillary == nil ? 0 : a &<< x)
                case .rshK: a = a &>> s.k
                case .rshX: a = x < 32 ? a >> x : (ancillary == nil ? 0 : a &>> x)
                case .neg: a = 0 &- a
                case .tax: x = a
                case .txa: a = x
                }
            }
        }
    }
}

/// The interpreter's form of one instruction: a dense operation for the dispatch switch,
/// with the cases that need the slow path (loads outside 0..<2^31) told apart at init.
private struct Step {
    var k: UInt32
    var op: Operation
    var jt: UInt8
    var jf: UInt8

    enum Operation: UInt8 {
        case retK, retA
        case ldAbsW, ldAbsH, ldAbsB, ldIndW, ldIndH, ldIndB, ldOutside, ldLen, ldImm, ldMem
        case ldxImm, ldxLen, ldxMem, ldxMsh, ldxMshOutside, st, stx
        case ja, jeqK, jeqX, jgtK, jgtX, jgeK, jgeX, jsetK, jsetX
        case addK, addX, subK, subX, mulK, mulX, divK, divX, modK, modX
        case andK, andX, orK, orX, xorK, xorX, lshK, lshX, rshK, rshX, neg, tax, txa
    }

    init(op: Operation, k: UInt32 = 0, jt: UInt8 = 0, jf: UInt8 = 0) {
        self.op = op
        self.k = k
        self.jt = jt
        self.jf = jf
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

/// `[x + k]` when X + k + size passes the end: libpcap drops; Linux wraps the sum to a
/// signed 32-bit offset and reads relative to a header if it is negative.
@inline(never)
private func indexedLoad(_ packet: UnsafeRawBufferPointer, _ x: UInt32, _ k: UInt32, _ size: Int,
                         _ ancillary: UnsafePointer<AncillaryData>?) -> UInt32? {
    guard let ancillary else { return nil }
    let offset = Int32(bitPattern: x &+ k)
    if offset >= 0 { return packetLoad(packet, Int(offset), size) }
    return headerLoad(packet, offset, size, ancillary.pointee)
}

/// Absolute loads at k ≥ 2^31: libpcap drops; Linux reads an ancillary field or a header.
@inline(never)
private func outsideLoad(_ packet: UnsafeRawBufferPointer, _ a: UInt32, _ x: UInt32, _ k: UInt32, _ size: Int,
                         _ ancillary: UnsafePointer<AncillaryData>?) -> UInt32? {
    guard let ancillary else { return nil }
    guard AncillaryField.isAncillary(k) else { return headerLoad(packet, Int32(bitPattern: k), size, ancillary.pointee) }
    guard let field = AncillaryField(offset: k) else { return nil }
    switch field {
    case .xorX: return a ^ x
    case .netlinkAttribute: return NetlinkAttributes.find(in: packet, from: a, type: x)
    case .nestedNetlinkAttribute: return NetlinkAttributes.findNested(in: packet, at: a, type: x)
    default: return ancillary.pointee.value(of: field)
    }
}

/// The kernel's `bpf_internal_load_pointer_neg_helper`: offsets from SKF_NET_OFF and
/// SKF_LL_OFF address the network and link-layer headers; nothing lies below SKF_LL_OFF.
func headerLoad(_ packet: UnsafeRawBufferPointer, _ offset: Int32, _ size: Int, _ ancillary: AncillaryData) -> UInt32? {
    let header: UInt32?
    let relative: Int32
    if offset >= AncillaryField.networkHeaderOffset {
        header = ancillary.networkHeaderOffset
        relative = offset - AncillaryField.networkHeaderOffset
    } else if offset >= AncillaryField.linkLayerHeaderOffset {
        header = ancillary.linkLayerHeaderOffset
        relative = offset - AncillaryField.linkLayerHeaderOffset
    } else {
        return nil
    }
    guard let header else { return nil }
    return packetLoad(packet, Int(header) + Int(relative), size)
}

/// A big-endian load of `size` bytes at `offset`, nil outside the packet.
func packetLoad(_ packet: UnsafeRawBufferPointer, _ offset: Int, _ size: Int) -> UInt32? {
    guard offset >= 0, offset <= packet.count - size else { return nil }
    switch size {
    case 4: return UInt32(bigEndian: packet.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    case 2: return UInt32(UInt16(bigEndian: packet.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    default: return UInt32(packet[offset])
    }
}
