/// Which bytes of a program type's context may be read or written, with what size, and
/// which fields load as packet pointers: the kernel's is_valid_access rules for each type.
struct ContextAccess {
    /// What a permitted load gives.
    enum Result { case scalar, packet, packetEnd, packetMeta }

    /// The result of an access, or the reason it is not allowed.
    static func check(_ kind: ProgramKind, offset: Int, size: Int, write: Bool,
                      tracepoint: TracepointFormat? = nil) -> Swift.Result<Result, ContextDenial> {
        guard offset >= 0 else { return .failure(.outside) }
        guard offset % size == 0 else { return .failure(.misaligned) }
        switch kind {
        case .kernel(.xdp): return xdp(offset: offset, size: size, write: write)
        case .kernel(.socketFilter), .kernel(.schedulerClassifier), .kernel(.schedulerAction), .kernel(.cgroupSocketBuffer):
            return socketBuffer(kind, offset: offset, size: size, write: write)
        case .kernel(.tracepoint):
            if write { return .failure(.readOnly) }
            // The first 8 bytes (common_type, _flags, _preempt_count, _pid) are not the program's.
            if offset < 8 { return .failure(.commonFields) }
            if let tracepoint, offset + size > tracepoint.recordSize {
                return .failure(.pastRecord(name: tracepoint.name, size: tracepoint.recordSize))
            }
            return offset < maxTraceRecord ? .success(.scalar) : .failure(.outside)
        case .kernel(.rawTracepoint):
            if write { return .failure(.readOnly) }
            return offset + size <= 96 ? .success(.scalar) : .failure(.outside)
        case .kernel(.kprobe):
            if write { return .failure(.readOnly) }
            return offset + size <= ptRegsSize ? .success(.scalar) : .failure(.outside)
        case .kernel(.perfEvent):
            if write { return .failure(.readOnly) }
            guard offset + size <= ptRegsSize + 16 else { return .failure(.outside) }
            if offset < ptRegsSize && size != 8 { return .failure(.size) }
            return .success(.scalar)
        default:
            return .failure(.unsupportedType)
        }
    }

    /// The kernel's PERF_MAX_TRACE_SIZE: no tracepoint record is larger.
    static let maxTraceRecord = 8192

    /// sizeof(struct pt_regs) on x86-64.
    static let ptRegsSize = 168

    private static func xdp(offset: Int, size: Int, write: Bool) -> Swift.Result<Result, ContextDenial> {
        if write { return .failure(.readOnly) }
        guard offset + size <= 24 else { return .failure(.outside) }
        guard size == 4 else { return .failure(.size) }
        switch offset {
        case 0: return .success(.packet)
        case 4: return .success(.packetEnd)
        case 8: return .success(.packetMeta)
        default: return .success(.scalar)
        }
    }

    // Offsets in struct __sk_buff.
    private static let cb = 48..<68, tcClassID = 72, data = 76, dataEnd = 80, family = 88, localPortEnd = 140
    private static let dataMeta = 140, flowKeys = 144, tstamp = 152, wireLen = 160, sk = 168, tstampType = 180
    private static let hwtstamp = 184, socketBufferSize = 192

    private static func socketBuffer(_ kind: ProgramKind, offset: Int, size: Int, write: Bool) -> Swift.Result<Result, ContextDenial> {
        guard offset + size <= socketBufferSize else { return .failure(.outside) }
        let field = offset - offset % 4
        let isTC = kind == .kernel(.schedulerClassifier) || kind == .kernel(.schedulerAction)
        let isCgroup = kind == .kernel(.cgroupSocketBuffer)
        // Fields this type may not touch at all.
        let isSocketFilter = kind == .kernel(.socketFilter)
        let denied = (field == tcClassID && !isTC) || (field == dataMeta && !isTC)
            || (field == wireLen && !isTC) || ((field == data || field == dataEnd) && isSocketFilter)
            || ((family..<localPortEnd).contains(field) && !isCgroup)
            || ((tstamp..<tstamp + 8).contains(field) && isSocketFilter)
            || ((hwtstamp..<hwtstamp + 8).contains(field) && isSocketFilter)
            || (flowKeys..<flowKeys + 8).contains(field) || (sk..<sk + 8).contains(field)
            || (tstampType..<hwtstamp).contains(field)
        if denied { return .failure(.notAllowed) }
        if write {
            let writable: Bool = switch field {
            case cb: true
            case 8, 32: !(kind == .kernel(.socketFilter))                    // mark, priority
            case 12, 44, tcClassID: isTC                                     // queue_mapping, tc_index
            default: false
            }
            guard writable else { return .failure(.readOnly) }
        }
        switch field {
        case cb:
            return offset + size <= cb.upperBound ? .success(.scalar) : .failure(.outside)
        case 100..<132, 92, 96, data, dataEnd, dataMeta:
            guard size == 4 else { return .failure(.size) }
            return .success(field == data ? .packet : field == dataEnd ? .packetEnd : field == dataMeta ? .packetMeta : .scalar)
        case tstamp, tstamp + 4, hwtstamp, hwtstamp + 4:
            return size == 8 && offset % 8 == 0 ? .success(.scalar) : .failure(.size)
        default:
            if write { return size == 4 ? .success(.scalar) : .failure(.size) }
            return size <= 4 ? .success(.scalar) : .failure(.size)
        }
    }
}

/// Why a context access is refused.
enum ContextDenial: Error {
    case outside, misaligned, readOnly, size, notAllowed, unsupportedType, commonFields
    /// Past the end of the tracepoint's record (the kernel refuses to attach the program).
    case pastRecord(name: String, size: Int)

    var text: String {
        switch self {
        case .commonFields: "reads the fields common to all events (offsets 0-7), which tracepoint programs may not read"
        case .pastRecord(let name, let size): "is past the end of the \(name) record (\(size) bytes)"
        case .outside: "is outside the context"
        case .misaligned: "is not aligned to its size"
        case .readOnly: "writes a field this program type may only read"
        case .size: "has a size this field does not allow"
        case .notAllowed: "touches a field this program type may not access"
        case .unsupportedType: "is in a context the verifier does not know for this program type"
        }
    }
}
