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
        let steps = Step.compile(program.instructions)
        count = steps.count
        code = .allocate(capacity: count)
        code.initialize(from: steps, count: count)
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

    /// Stands in for the start of an empty packet, so loads need no nil check; the bounds
    /// checks keep them from reading it.
    nonisolated(unsafe) private static let emptyPacket = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8))

    @inline(__always)
    private func execute(_ buffer: UnsafeRawBufferPointer, _ wireLength: UInt32,
                         _ ancillary: UnsafePointer<AncillaryData>?) -> UInt32 {
        let packet = PacketBytes(start: buffer.baseAddress ?? Self.emptyPacket, count: buffer.count)
        // Left uninitialized: validation proves every word is written before it is read.
        return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: ClassicOpcode.scratchWords) { m -> UInt32 in
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
                    guard let value = packetLoad(packet, Int(s.k), 4) else { return 0 }
                    a = value
                case .ldAbsH:
                    guard let value = packetLoad(packet, Int(s.k), 2) else { return 0 }
                    a = value
                case .ldAbsB:
                    guard let value = packetLoad(packet, Int(s.k), 1) else { return 0 }
                    a = value
                case .ldIndW:
                    guard let value = indexed(packet, x, s.k, 4, ancillary) else { return 0 }
                    a = value
                case .ldIndH:
                    guard let value = indexed(packet, x, s.k, 2, ancillary) else { return 0 }
                    a = value
                case .ldIndB:
                    guard let value = indexed(packet, x, s.k, 1, ancillary) else { return 0 }
                    a = value
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
                    guard let byte = packetLoad(packet, Int(s.k), 1) else { return 0 }
                    x = (byte & 0xf) << 2
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
                case .andEq:
                    a &= s.k
                    pc += Int(a == s.k2 ? s.jt : s.jf)
                case .andGt:
                    a &= s.k
                    pc += Int(a > s.k2 ? s.jt : s.jf)
                case .andGe:
                    a &= s.k
                    pc += Int(a >= s.k2 ? s.jt : s.jf)
                case .andSet:
                    a &= s.k
                    pc += Int(a & s.k2 != 0 ? s.jt : s.jf)
                case .absWordEq:
                    guard let value = packetLoad(packet, Int(s.k), 4) else { return 0 }
                    a = value
                    pc += Int(a == s.k2 ? s.jt : s.jf)
                case .absWordGt:
                    guard let value = packetLoad(packet, Int(s.k), 4) else { return 0 }
                    a = value
                    pc += Int(a > s.k2 ? s.jt : s.jf)
                case .absWordGe:
                    guard let value = packetLoad(packet, Int(s.k), 4) else { return 0 }
                    a = value
                    pc += Int(a >= s.k2 ? s.jt : s.jf)
                case .absWordSet:
                    guard let value = packetLoad(packet, Int(s.k), 4) else { return 0 }
                    a = value
                    pc += Int(a & s.k2 != 0 ? s.jt : s.jf)
                case .absHalfEq:
                    guard let value = packetLoad(packet, Int(s.k), 2) else { return 0 }
                    a = value
                    pc += Int(a == s.k2 ? s.jt : s.jf)
                case .absHalfGt:
                    guard let value = packetLoad(packet, Int(s.k), 2) else { return 0 }
                    a = value
                    pc += Int(a > s.k2 ? s.jt : s.jf)
                case .absHalfGe:
                    guard let value = packetLoad(packet, Int(s.k), 2) else { return 0 }
                    a = value
                    pc += Int(a >= s.k2 ? s.jt : s.jf)
                case .absHalfSet:
                    guard let value = packetLoad(packet, Int(s.k), 2) else { return 0 }
                    a = value
                    pc += Int(a & s.k2 != 0 ? s.jt : s.jf)
                case .absByteEq:
                    guard let value = packetLoad(packet, Int(s.k), 1) else { return 0 }
                    a = value
                    pc += Int(a == s.k2 ? s.jt : s.jf)
                case .absByteGt:
                    guard let value = packetLoad(packet, Int(s.k), 1) else { return 0 }
                    a = value
                    pc += Int(a > s.k2 ? s.jt : s.jf)
                case .absByteGe:
                    guard let value = packetLoad(packet, Int(s.k), 1) else { return 0 }
                    a = value
                    pc += Int(a >= s.k2 ? s.jt : s.jf)
                case .absByteSet:
                    guard let value = packetLoad(packet, Int(s.k), 1) else { return 0 }
                    a = value
                    pc += Int(a & s.k2 != 0 ? s.jt : s.jf)
                case .indWordEq:
                    guard let value = indexed(packet, x, s.k, 4, ancillary) else { return 0 }
                    a = value
                    pc += Int(a == s.k2 ? s.jt : s.jf)
                case .indWordGt:
                    guard let value = indexed(packet, x, s.k, 4, ancillary) else { return 0 }
                    a = value
                    pc += Int(a > s.k2 ? s.jt : s.jf)
                case .indWordGe:
                    guard let value = indexed(packet, x, s.k, 4, ancillary) else { return 0 }
                    a = value
                    pc += Int(a >= s.k2 ? s.jt : s.jf)
                case .indWordSet:
                    guard let value = indexed(packet, x, s.k, 4, ancillary) else { return 0 }
                    a = value
                    pc += Int(a & s.k2 != 0 ? s.jt : s.jf)
                case .indHalfEq:
                    guard let value = indexed(packet, x, s.k, 2, ancillary) else { return 0 }
                    a = value
                    pc += Int(a == s.k2 ? s.jt : s.jf)
                case .indHalfGt:
                    guard let value = indexed(packet, x, s.k, 2, ancillary) else { return 0 }
                    a = value
                    pc += Int(a > s.k2 ? s.jt : s.jf)
                case .indHalfGe:
                    guard let value = indexed(packet, x, s.k, 2, ancillary) else { return 0 }
                    a = value
                    pc += Int(a >= s.k2 ? s.jt : s.jf)
                case .indHalfSet:
                    guard let value = indexed(packet, x, s.k, 2, ancillary) else { return 0 }
                    a = value
                    pc += Int(a & s.k2 != 0 ? s.jt : s.jf)
                case .indByteEq:
                    guard let value = indexed(packet, x, s.k, 1, ancillary) else { return 0 }
                    a = value
                    pc += Int(a == s.k2 ? s.jt : s.jf)
                case .indByteGt:
                    guard let value = indexed(packet, x, s.k, 1, ancillary) else { return 0 }
                    a = value
                    pc += Int(a > s.k2 ? s.jt : s.jf)
                case .indByteGe:
                    guard let value = indexed(packet, x, s.k, 1, ancillary) else { return 0 }
                    a = value
                    pc += Int(a >= s.k2 ? s.jt : s.jf)
                case .indByteSet:
                    guard let value = indexed(packet, x, s.k, 1, ancillary) else { return 0 }
                    a = value
                    pc += Int(a & s.k2 != 0 ? s.jt : s.jf)
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

/// A packet's bytes by a pointer that is never nil.
struct PacketBytes {
    let start: UnsafeRawPointer
    let count: Int

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
