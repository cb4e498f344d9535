import BPFInstructions

/// Packet loads, ancillary fields and the netlink search, for both targets.
extension TranslationEmitter {
    /// `[x + k]`: libpcap drops when X + k passes the packet, without wrapping; Linux wraps
    /// X + k to a signed 32-bit offset, negative ones addressing the headers.
    mutating func emitIndexedLoad(_ k: UInt32, _ size: LoadSize) {
        let bytes = memorySize(size)
        if semantics == .libpcap {
            // Both values are below 2^32, so the 64-bit sum is exact.
            emit(.arithmetic(.mov, .bits64, dst: .r2, source: .register(Self.x)))
            emit(.arithmetic(.add, .bits64, dst: .r2, source: .immediate(Int32(Int64(k) + header))))
            require(.le, .bits64, .r2, .immediate(Int32(Self.reach)))
            emit(.loadPacket(bytes, index: .r2, imm: 0))
            return
        }
        if target == .socketFilter {
            // The kernel computes (int)(X + k) and handles negative offsets itself.
            emit(.loadPacket(bytes, index: Self.x, imm: Int32(bitPattern: k)))
            return
        }
        let negative = label(), done = label()
        emit(.arithmetic(.mov, .bits64, dst: .r2, source: .register(Self.x)))
        emit(.arithmetic(.add, .bits64, dst: .r2, source: .immediate(Int32(bitPattern: k))))
        emit(.arithmetic(.lsh, .bits64, dst: .r2, source: .immediate(32)))
        emit(.arithmetic(.arsh, .bits64, dst: .r2, source: .immediate(32)))
        builder.branch(.slt, dst: .r2, source: .immediate(0), to: negative)
        emit(.arithmetic(.add, .bits64, dst: .r2, source: .immediate(Int32(header))))
        emit(.loadPacket(bytes, index: .r2, imm: 0))
        builder.jump(to: done)
        builder.bind(negative)
        // r2 is negative: pick the header by range, as bpf_internal_load_pointer_neg_helper does.
        let linkLayer = label(), common = label(), fail = label()
        builder.branch(.slt, dst: .r2, source: .immediate(AncillaryField.linkLayerHeaderOffset), to: fail)
        builder.branch(.slt, dst: .r2, source: .immediate(AncillaryField.networkHeaderOffset), to: linkLayer)
        emit(.arithmetic(.sub, .bits64, dst: .r2, source: .immediate(AncillaryField.networkHeaderOffset)))
        emit(.load(.double, dst: .r3, base: Self.context, offset: Int16(ClassicContextBlock.networkHeaderOffset)))
        builder.jump(to: common)
        builder.bind(linkLayer)
        emit(.arithmetic(.sub, .bits64, dst: .r2, source: .immediate(AncillaryField.linkLayerHeaderOffset)))
        emit(.load(.double, dst: .r3, base: Self.context, offset: Int16(ClassicContextBlock.linkLayerHeaderOffset)))
        builder.bind(common)
        builder.branch(.slt, dst: .r3, source: .immediate(0), to: fail)
        emit(.arithmetic(.add, .bits64, dst: .r2, source: .register(.r3)))
        emit(.arithmetic(.add, .bits64, dst: .r2, source: .immediate(Int32(header))))
        builder.branch(.gt, dst: .r2, source: .immediate(Int32(Self.reach)), to: fail)
        emit(.loadPacket(bytes, index: .r2, imm: 0))
        builder.jump(to: done)
        builder.bind(fail)
        returnZero()
        builder.bind(done)
    }

    /// A load at a constant negative offset from SKF_NET_OFF or SKF_LL_OFF (Linux only).
    mutating func emitHeaderLoad(_ offset: Int32, _ size: LoadSize) {
        if target == .socketFilter {
            emit(.loadPacket(memorySize(size), index: nil, imm: offset))
            return
        }
        let isNetwork = offset >= AncillaryField.networkHeaderOffset
        let relative = Int64(offset) - Int64(isNetwork ? AncillaryField.networkHeaderOffset : AncillaryField.linkLayerHeaderOffset)
        let field = isNetwork ? ClassicContextBlock.networkHeaderOffset : ClassicContextBlock.linkLayerHeaderOffset
        emit(.load(.double, dst: .r3, base: Self.context, offset: Int16(field)))
        require(.sge, .bits64, .r3, .immediate(0))
        emit(.arithmetic(.add, .bits64, dst: .r3, source: .immediate(Int32(relative + header))))
        require(.le, .bits64, .r3, .immediate(Int32(Self.reach)))
        emit(.loadPacket(memorySize(size), index: .r3, imm: 0))
    }

    mutating func emitAncillary(_ field: AncillaryField, at index: Int) throws(ClassicTranslationError) {
        if field == .xorX {
            emit(.arithmetic(.xor, .bits32, dst: Self.a, source: .register(Self.x)))
            return
        }
        switch target {
        case .virtualMachine, .packet:
            if let offset = ClassicContextBlock.offset(of: field) {
                emit(.load(.word, dst: Self.a, base: Self.context, offset: Int16(offset)))
            } else {
                emitNetlinkSearch(nested: field == .nestedNetlinkAttribute)
            }
        case .socketFilter:
            // struct __sk_buff offsets (linux/bpf.h).
            func read(_ offset: Int16, swap: Bool = false) -> [Instruction] {
                var code: [Instruction] = [.load(.word, dst: Self.a, base: Self.context, offset: offset)]
                if swap { code.append(.byteSwap(.toBigEndian, bits: 16, dst: Self.a)) }
                return code
            }
            switch field {
            case .protocol: builder.append(contentsOf: read(16, swap: true))  // __be16 in memory
            case .packetType: builder.append(contentsOf: read(4))
            case .mark: builder.append(contentsOf: read(8))
            case .queue: builder.append(contentsOf: read(12))
            case .vlanTagPresent: builder.append(contentsOf: read(20))
            case .vlanTag: builder.append(contentsOf: read(24))
            case .vlanProtocol: builder.append(contentsOf: read(28, swap: true))
            case .interfaceIndex: builder.append(contentsOf: read(40))
            case .receiveHash: builder.append(contentsOf: read(68))
            case .random: emit(.call(helper: 7))  // bpf_get_prandom_u32
            case .cpu: emit(.call(helper: 8))     // bpf_get_smp_processor_id
            case .hardwareType, .payloadOffset, .netlinkAttribute, .nestedNetlinkAttribute, .xorX:
                throw ClassicTranslationError(index: index, reason: .ancillaryFieldUnavailable(field))
            }
        }
    }

    /// `nla_find` over the packet in the VM's memory; A becomes the attribute's offset or 0.
    /// r9 holds the packet's length (set in the prologue when needed).
    mutating func emitNetlinkSearch(nested: Bool) {
        let zero = label(), loop = label(), found = label(), done = label()
        let data = Int16(header)
        emit(.arithmetic(.mov, .bits64, dst: .r4, source: .register(Self.x)))
        builder.branch(.lt, dst: Self.length, source: .immediate(4), to: zero)
        emit(.arithmetic(.mov, .bits64, dst: .r3, source: .register(Self.length)))
        emit(.arithmetic(.sub, .bits64, dst: .r3, source: .immediate(4)))
        builder.branch(.gt, dst: Self.a, source: .register(.r3), to: zero)
        if nested {
            emit(.arithmetic(.mov, .bits64, dst: .r5, source: .register(Self.context)))
            emit(.arithmetic(.add, .bits64, dst: .r5, source: .register(Self.a)))
            emit(.load(.half, dst: .r1, base: .r5, offset: data))
            emit(.arithmetic(.mov, .bits64, dst: .r3, source: .register(Self.length)))
            emit(.arithmetic(.sub, .bits64, dst: .r3, source: .register(Self.a)))
            builder.branch(.gt, dst: .r1, source: .register(.r3), to: zero)
            emit(.arithmetic(.mov, .bits64, dst: .r2, source: .register(Self.a)))
            emit(.arithmetic(.add, .bits64, dst: .r2, source: .immediate(4)))
            emit(.arithmetic(.mov, .bits64, dst: .r3, source: .register(.r1)))
            emit(.arithmetic(.sub, .bits64, dst: .r3, source: .immediate(4)))
        } else {
            emit(.arithmetic(.mov, .bits64, dst: .r2, source: .register(Self.a)))
            emit(.arithmetic(.mov, .bits64, dst: .r3, source: .register(Self.length)))
            emit(.arithmetic(.sub, .bits64, dst: .r3, source: .register(Self.a)))
        }
        // r2: attribute offset, r3: bytes left (signed), r4: wanted type.
        builder.bind(loop)
        builder.branch(.slt, dst: .r3, source: .immediate(4), to: zero)
        emit(.arithmetic(.mov, .bits64, dst: .r5, source: .register(Self.context)))
        emit(.arithmetic(.add, .bits64, dst: .r5, source: .register(.r2)))
        emit(.load(.half, dst: .r1, base: .r5, offset: data))
        builder.branch(.lt, dst: .r1, source: .immediate(4), to: zero)
        builder.branch(.gt, dst: .r1, source: .register(.r3), to: zero)
        emit(.load(.half, dst: .r5, base: .r5, offset: data + 2))
        emit(.arithmetic(.and, .bits64, dst: .r5, source: .immediate(Int32(NetlinkAttributes.typeMask))))
        builder.branch(.eq, dst: .r5, source: .register(.r4), to: found)
        emit(.arithmetic(.add, .bits64, dst: .r1, source: .immediate(3)))
        emit(.arithmetic(.and, .bits64, dst: .r1, source: .immediate(-4)))
        emit(.arithmetic(.sub, .bits64, dst: .r3, source: .register(.r1)))
        emit(.arithmetic(.add, .bits64, dst: .r2, source: .register(.r1)))
        builder.jump(to: loop)
        builder.bind(found)
        emit(.arithmetic(.mov, .bits64, dst: Self.a, source: .register(.r2)))
        builder.jump(to: done)
        builder.bind(zero)
        emit(.arithmetic(.mov, .bits32, dst: Self.a, source: .immediate(0)))
        builder.bind(done)
    }
}
