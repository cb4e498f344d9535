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
    private let usesScratch: Bool
    /// A word that stands in for the scratch memory of programs that use none and for the
    /// bytes of an empty packet; never read or written.
    private let placeholder = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)

    public init(program: ClassicProgram) {
        self.program = program
        usesScratch = program.instructions.contains(where: Step.usesScratch)
        let steps = Step.compile(program.instructions)
        count = steps.count
        code = .allocate(capacity: count)
        code.initialize(from: steps, count: count)
    }

    deinit {
        code.deinitialize(count: count)
        code.deallocate()
        placeholder.deallocate()
    }

    /// libpcap semantics. `wireLength` (what `#len` reads) defaults to the packet's length.
    public func run(packet: UnsafeRawBufferPointer, wireLength: UInt32? = nil) -> UInt32 {
        let bytes = PacketBytes(packet, placeholder: placeholder)
        let length = wireLength ?? UInt32(truncatingIfNeeded: packet.count)
        guard usesScratch else { return executeLibpcap(bytes, length, placeholder) }
        return executeLibpcapWithScratch(bytes, length)
    }

    /// Linux socket filter semantics, with `ancillary` answering the ancillary loads.
    public func run(packet: UnsafeRawBufferPointer, wireLength: UInt32? = nil, ancillary: AncillaryData) -> UInt32 {
        let bytes = PacketBytes(packet, placeholder: placeholder)
        let length = wireLength ?? UInt32(truncatingIfNeeded: packet.count)
        return withUnsafePointer(to: ancillary) { ancillary in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: ClassicOpcode.scratchWords) { m in
                execute(bytes, length, ancillary, m.baseAddress ?? placeholder)
            }
        }
    }

    /// Runs on an array; libpcap semantics without `ancillary`, Linux with it.
    public func run(packet: [UInt8], wireLength: UInt32? = nil, ancillary: AncillaryData? = nil) -> UInt32 {
        packet.withUnsafeBytes { bytes in
            if let ancillary { return run(packet: bytes, wireLength: wireLength, ancillary: ancillary) }
            return run(packet: bytes, wireLength: wireLength)
        }
    }

    /// The loop specialized for libpcap semantics, where no ancillary data exists; inlined
    /// into `run`, so that a packet costs one call.
    @inline(__always)
    private func executeLibpcap(_ packet: PacketBytes, _ wireLength: UInt32, _ m: UnsafeMutablePointer<UInt32>) -> UInt32 {
        execute(packet, wireLength, nil, m)
    }

    @inline(never)
    private func executeLibpcapWithScratch(_ packet: PacketBytes, _ wireLength: UInt32) -> UInt32 {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: ClassicOpcode.scratchWords) { m in
            executeLibpcap(packet, wireLength, m.baseAddress ?? placeholder)
        }
    }

    /// Scratch words are left uninitialized: validation proves every word is written
    /// before it is read. Validation also guarantees forward jumps inside the program and
    /// a final ret, so the loop checks neither. Each case reads only the fields it needs,
    /// after its condition, so that conditions compile to branches the processor can
    /// predict rather than to selects that it must wait for.
    @inline(__always)
    private func execute(_ packet: PacketBytes, _ wireLength: UInt32,
                         _ ancillary: UnsafePointer<AncillaryData>?, _ m: UnsafeMutablePointer<UInt32>) -> UInt32 {
        var a: UInt32 = 0
        var x: UInt32 = 0
        var pc = UnsafePointer(code)
        // tcpdump's programs for Ethernet start with `ldh [12]; jeq #type`, and many
        // packets leave one or two steps later: that first step runs without a dispatch.
        if pc.pointee.op == .absHalfJump {
            guard let value = packetLoad(packet, Int(pc.pointee.k), 2) else { return 0 }
            a = value & pc.pointee.mask
            pc = pc.branch(on: a)
        } else if pc.pointee.op == .absHalfEqual {
            guard let value = packetLoad(packet, Int(pc.pointee.k), 2) else { return 0 }
            a = value
            pc = pc.branch(equal: a)
        }
        while true {
            switch pc.pointee.op {
            case .retK: return pc.pointee.k
            case .retA: return a
            case .ldAbsW:
                guard let value = packetLoad(packet, Int(pc.pointee.k), 4) else { return 0 }
                a = value
            case .ldAbsH:
                guard let value = packetLoad(packet, Int(pc.pointee.k), 2) else { return 0 }
                a = value
            case .ldAbsB:
                guard let value = packetLoad(packet, Int(pc.pointee.k), 1) else { return 0 }
                a = value
            case .ldIndW:
                guard let value = indexed(packet, x, pc.pointee.k, 4, ancillary) else { return 0 }
                a = value
            case .ldIndH:
                guard let value = indexed(packet, x, pc.pointee.k, 2, ancillary) else { return 0 }
                a = value
            case .ldIndB:
                guard let value = indexed(packet, x, pc.pointee.k, 1, ancillary) else { return 0 }
                a = value
            case .ldOutside:
                guard let value = outsideLoad(packet, a, x, pc.pointee.k, Int(pc.pointee.k3), ancillary) else { return 0 }
                a = value
            case .ldLen: a = wireLength
            case .ldImm: a = pc.pointee.k
            case .ldMem: a = m[Int(pc.pointee.k)]
            case .ldxImm: x = pc.pointee.k
            case .ldxLen: x = wireLength
            case .ldxMem: x = m[Int(pc.pointee.k)]
            case .ldxMsh:
                guard let length = headerLength(packet, pc.pointee.k) else { return 0 }
                x = length
            case .ldxMshOutside:
                guard let ancillary, let byte = headerLoad(packet, Int32(bitPattern: pc.pointee.k), 1, ancillary.pointee) else { return 0 }
                x = (byte & 0xf) << 2
            case .st: m[Int(pc.pointee.k)] = a
            case .stx: m[Int(pc.pointee.k)] = x
            case .ja:
                pc = pc.jump(pc.pointee.jt)
                continue
            case .jumpK:
                pc = pc.branch(on: a)
                continue
            case .jeqX:
                pc = pc.branch(a == x)
                continue
            case .jgtX:
                pc = pc.branch(a > x)
                continue
            case .jgeX:
                pc = pc.branch(a >= x)
                continue
            case .jsetX:
                pc = pc.branch(a & x != 0)
                continue
            case .addK: a &+= pc.pointee.k
            case .addX: a &+= x
            case .subK: a &-= pc.pointee.k
            case .subX: a &-= x
            case .mulK: a &*= pc.pointee.k
            case .mulX: a &*= x
            case .divK: a /= pc.pointee.k
            case .divX:
                guard x != 0 else { return 0 }
                a /= x
            case .modK: a %= pc.pointee.k
            case .modX:
                guard x != 0 else { return 0 }
                a %= x
            case .andK: a &= pc.pointee.k
            case .andX: a &= x
            case .orK: a |= pc.pointee.k
            case .orX: a |= x
            case .xorK: a ^= pc.pointee.k
            case .xorX: a ^= x
            case .lshK: a = a &<< pc.pointee.k
            case .lshX: a = x < 32 ? a << x : (ancillary == nil ? 0 : a &<< x)
            case .rshK: a = a &>> pc.pointee.k
            case .rshX: a = x < 32 ? a >> x : (ancillary == nil ? 0 : a &>> x)
            case .neg: a = 0 &- a
            case .tax: x = a
            case .txa: a = x
            case .absWordJump:
                guard let value = packetLoad(packet, Int(pc.pointee.k), 4) else { return 0 }
                a = value & pc.pointee.mask
                pc = pc.branch(on: a)
                continue
            case .absHalfJump:
                guard let value = packetLoad(packet, Int(pc.pointee.k), 2) else { return 0 }
                a = value & pc.pointee.mask
                pc = pc.branch(on: a)
                continue
            case .absByteJump:
                guard let value = packetLoad(packet, Int(pc.pointee.k), 1) else { return 0 }
                a = value & pc.pointee.mask
                pc = pc.branch(on: a)
                continue
            case .absWordEqual:
                guard let value = packetLoad(packet, Int(pc.pointee.k), 4) else { return 0 }
                a = value
                pc = pc.branch(equal: a)
                continue
            case .absHalfEqual:
                guard let value = packetLoad(packet, Int(pc.pointee.k), 2) else { return 0 }
                a = value
                pc = pc.branch(equal: a)
                continue
            case .absByteEqual:
                guard let value = packetLoad(packet, Int(pc.pointee.k), 1) else { return 0 }
                a = value
                pc = pc.branch(equal: a)
                continue
            case .indWordJump:
                guard let value = indexed(packet, x, pc.pointee.k, 4, ancillary) else { return 0 }
                a = value & pc.pointee.mask
                pc = pc.branch(on: a)
                continue
            case .indHalfJump:
                guard let value = indexed(packet, x, pc.pointee.k, 2, ancillary) else { return 0 }
                a = value & pc.pointee.mask
                pc = pc.branch(on: a)
                continue
            case .indByteJump:
                guard let value = indexed(packet, x, pc.pointee.k, 1, ancillary) else { return 0 }
                a = value & pc.pointee.mask
                pc = pc.branch(on: a)
                continue
            case .mshWordJump:
                guard let value = headerIndexed(packet, pc, 4, &x, ancillary) else { return 0 }
                a = value
                pc = pc.branch(on: a)
                continue
            case .mshHalfJump:
                guard let value = headerIndexed(packet, pc, 2, &x, ancillary) else { return 0 }
                a = value
                pc = pc.branch(on: a)
                continue
            case .mshByteJump:
                guard let value = headerIndexed(packet, pc, 1, &x, ancillary) else { return 0 }
                a = value
                pc = pc.branch(on: a)
                continue
            case .andJump:
                a &= pc.pointee.k
                pc = pc.branch(on: a)
                continue
            case .lenJump:
                a = wireLength & pc.pointee.mask
                pc = pc.branch(on: a)
                continue
            case .mshWord, .mshHalf, .mshByte:
                // Without a jump after it the shape is rare: a second switch for the size.
                let size = switch pc.pointee.op {
                case .mshWord: 4
                case .mshHalf: 2
                default: 1
                }
                guard let value = headerIndexed(packet, pc, size, &x, ancillary) else { return 0 }
                a = value
                pc = pc.jump(pc.pointee.jt)
                continue
            }
            pc += 1
        }
    }
}

/// `ldxb 4*([k3]&0xf); ld [x + k]` of a fused step: sets X; the value loaded, masked, or
/// nil when a load fails.
@inline(__always)
private func headerIndexed(_ packet: PacketBytes, _ step: UnsafePointer<Step>, _ size: Int, _ x: inout UInt32,
                           _ ancillary: UnsafePointer<AncillaryData>?) -> UInt32? {
    guard let length = headerLength(packet, step.pointee.k3) else { return nil }
    x = length
    guard let value = indexed(packet, length, step.pointee.k, size, ancillary) else { return nil }
    return value & step.pointee.mask
}
