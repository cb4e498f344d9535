import BPFInstructions

/// Which system's rules the translation keeps where libpcap and Linux differ (loads at
/// negative offsets, ancillary fields, `[x + k]` past 2^31, shifts by X of 32 or more).
/// `ClassicInterpreter` follows `.libpcap` without ancillary data and `.linux` with it.
public enum ClassicSemantics: Sendable, Hashable {
    case libpcap, linux
}

/// Where the eBPF translation is meant to run.
public enum ClassicTranslationTarget: Sendable, Hashable {
    /// BPFVM's `Interpreter`: r1 points to a `ClassicContextBlock` followed by the packet,
    /// r2 holds their length. Packet loads are `ldabs`/`ldind` offset by the block's size.
    case virtualMachine
    /// A Linux BPF_PROG_TYPE_SOCKET_FILTER: r1 is the `__sk_buff`, packet loads are
    /// `ldabs`/`ldind` (as the kernel's own converter emits), ancillary fields are
    /// `__sk_buff` fields or helper calls, and no instruction is unreachable.
    case socketFilter
    /// BPFVM (interpreter or JIT) over the packet alone, with libpcap's rules: r1 points to
    /// the packet, r2 holds its captured length, so packets in a capture file's buffer need
    /// no copying. Programs that read `#len` have no translation here (the wire length is
    /// not in the input): use `.virtualMachine`.
    case packet
}

/// Translates classic programs to eBPF that returns the same value on every packet. A is
/// r0, X is r7, M[k] the stack word at r10 - 4(k+1), r6 the context (as the kernel's
/// converter keeps them); r2–r5 are scratch between instructions.
///
/// Loads at offsets of 2^31 − 72 bytes or more are taken to be outside every packet.
public enum ClassicTranslator {
    public static func translate(_ program: ClassicProgram, to target: ClassicTranslationTarget,
                                 semantics: ClassicSemantics = .libpcap) throws(ClassicTranslationError) -> Program {
        if target == .packet {
            if semantics == .linux { throw ClassicTranslationError(index: 0, reason: .needsContext("Linux's rules")) }
            if let index = program.instructions.firstIndex(where: { $0 == .loadA(.length) || $0 == .loadX(.length) }) {
                throw ClassicTranslationError(index: index, reason: .needsContext("#len"))
            }
        }
        var emitter = TranslationEmitter(program: program.instructions, target: target, semantics: semantics)
        try emitter.emitProgram()
        do {
            return try emitter.builder.build()
        } catch {
            throw ClassicTranslationError(index: emitter.classicIndex(ofEBPF: error.instruction), reason: .tooLarge(error.description))
        }
    }
}
