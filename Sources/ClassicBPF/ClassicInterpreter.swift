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

    /// The loop specialized for libpcap semantics, where no ancillary data exists.
    @inline(never)
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
                guard let length = headerLength(packet, pc.pointee.k3) else { return 0 }
                x = length
                guard let value = indexed(packet, x, pc.pointee.k, 4, ancillary) else { return 0 }
                a = value & pc.pointee.mask
                pc = pc.branch(on: a)
                continue
            case .mshHalfJump:
                guard let length = headerLength(packet, pc.pointee.k3) else { return 0 }
                x = length
                guard let value = indexed(packet, x, pc.pointee.k, 2, ancillary) else { return 0 }
                a = value & pc.pointee.mask
                pc = pc.branch(on: a)
                continue
            case .mshByteJump:
                guard let length = headerLength(packet, pc.pointee.k3) else { return 0 }
                x = length
                guard let value = indexed(packet, x, pc.pointee.k, 1, ancillary) else { return 0 }
                a = value & pc.pointee.mask
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
            case .mshWord:
                guard let length = headerLength(packet, pc.pointee.k3) else { return 0 }
                x = length
                guard let value = indexed(packet, x, pc.pointee.k, 4, ancillary) else { return 0 }
                a = value & pc.pointee.mask
                pc = pc.jump(pc.pointee.jt)
                continue
            case .mshHalf:
                guard let length = headerLength(packet, pc.pointee.k3) else { return 0 }
                x = length
                guard let value = indexed(packet, x, pc.pointee.k, 2, ancillary) else { return 0 }
                a = value & pc.pointee.mask
                pc = pc.jump(pc.pointee.jt)
                continue
            case .mshByte:
                guard let length = headerLength(packet, pc.pointee.k3) else { return 0 }
                x = length
                guard let value = indexed(packet, x, pc.pointee.k, 1, ancillary) else { return 0 }
                a = value & pc.pointee.mask
                pc = pc.jump(pc.pointee.jt)
                continue
            }
            pc += 1
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

    /// The step a conditional jump goes to; each side reads only its own distance.
    @inline(__always)
    func branch(_ taken: Bool) -> UnsafePointer<Step> {
        if _fastPath(taken) { return jump(pointee.jt) }
        return jump(pointee.jf)
    }
}

/// A packet's bytes by a pointer that is never nil.
struct PacketBytes {
    let start: UnsafeRawPointer
    let count: Int

    init(start: UnsafeRawPointer, count: Int) {
        self.start = start
        self.count = count
    }

    /// `placeholder` stands in for the start of an empty packet, so loads need no nil
    /// check; the bounds checks keep them from reading it.
    init(_ buffer: UnsafeRawBufferPointer, placeholder: UnsafeMutablePointer<UInt32>) {
        start = buffer.baseAddress ?? UnsafeRawPointer(placeholder)
        count = buffer.count
    }

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: start, count: count) }
}

// Big-endian packet loads; callers have checked the bounds.
@inline(__always) private func word(_ packet: PacketBytes, _ at: Int) -> UInt32 {
    UInt32(bigEndian: packet.start.loadUnaligned(fromByteOffset: at, as: UInt32.self))
}
@inline(__always) private func half(_ packet: PacketBytes, _ at: Int) -> UInt32 {
    UInt32(UInt16(bigEndian: packet.start.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
}
@inline(__always) private func byte(_ packet: PacketBytes, _ at: Int) -> UInt32 {
    UInt32(packet.start.load(fromByteOffset: at, as: UInt8.self))
}

/// `[x + k]`: inline while it lies inside the packet, else by the slow path's rules.
@inline(__always)
private func indexed(_ packet: PacketBytes, _ x: UInt32, _ k: UInt32, _ size: Int,
                     _ ancillary: UnsafePointer<AncillaryData>?) -> UInt32? {
    packetLoad(packet, Int(x) &+ Int(k), size) ?? indexedLoad(packet, x, k, size, ancillary)
}

/// `[x + k]` when X + k + size passes the end: libpcap drops; Linux wraps the sum to a
/// signed 32-bit offset and reads relative to a header if it is negative.
@inline(never)
private func indexedLoad(_ packet: PacketBytes, _ x: UInt32, _ k: UInt32, _ size: Int,
                         _ ancillary: UnsafePointer<AncillaryData>?) -> UInt32? {
    guard let ancillary else { return nil }
    let offset = Int32(bitPattern: x &+ k)
    if offset >= 0 { return packetLoad(packet, Int(offset), size) }
    return headerLoad(packet, offset, size, ancillary.pointee)
}

/// Absolute loads at k ≥ 2^31: libpcap drops; Linux reads an ancillary field or a header.
@inline(never)
private func outsideLoad(_ packet: PacketBytes, _ a: UInt32, _ x: UInt32, _ k: UInt32, _ size: Int,
                         _ ancillary: UnsafePointer<AncillaryData>?) -> UInt32? {
    guard let ancillary else { return nil }
    guard AncillaryField.isAncillary(k) else { return headerLoad(packet, Int32(bitPattern: k), size, ancillary.pointee) }
    guard let field = AncillaryField(offset: k) else { return nil }
    switch field {
    case .xorX: return a ^ x
    case .netlinkAttribute: return NetlinkAttributes.find(in: packet.buffer, from: a, type: x)
    case .nestedNetlinkAttribute: return NetlinkAttributes.findNested(in: packet.buffer, at: a, type: x)
    default: return ancillary.pointee.value(of: field)
    }
}

/// The kernel's `bpf_internal_load_pointer_neg_helper`: offsets from SKF_NET_OFF and
/// SKF_LL_OFF address the network and link-layer headers; nothing lies below SKF_LL_OFF.
func headerLoad(_ packet: PacketBytes, _ offset: Int32, _ size: Int, _ ancillary: AncillaryData) -> UInt32? {
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

/// `ldxb 4*([k]&0xf)`: the IPv4 header length in the byte at `offset`.
@inline(__always)
func headerLength(_ packet: PacketBytes, _ offset: UInt32) -> UInt32? {
    guard let byte = packetLoad(packet, Int(offset), 1) else { return nil }
    return (byte & 0xf) << 2
}

/// A big-endian load of `size` bytes at `offset`, nil outside the packet.
@inline(__always)
func packetLoad(_ packet: PacketBytes, _ offset: Int, _ size: Int) -> UInt32? {
    guard offset >= 0, offset <= packet.count - size else { return nil }
    switch size {
    case 4: return word(packet, offset)
    case 2: return half(packet, offset)
    default: return byte(packet, offset)
    }
}
