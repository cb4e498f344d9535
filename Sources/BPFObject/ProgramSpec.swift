import BPFInstructions

/// One entry-point program of an object, linked as libbpf links it before loading: its own
/// code followed by every `.text` subprogram it calls (transitively), calls fixed up, map
/// and variable references in loader form, and the BTF func/line info moved with the code.
public struct ProgramSpec: Sendable, Hashable {
    /// A function placed in the linked program: the program itself, then its subprograms.
    public struct Function: Sendable, Hashable {
        public var name: String
        /// First slot in `instructions`.
        public var start: Int
        /// Slots it takes.
        public var count: Int
    }

    public var name: String
    /// The ELF section, without the leading `?` that only turns off autoloading.
    public var sectionName: String
    /// libbpf's `SEC("?...")`: not loaded unless asked for.
    public var autoload: Bool
    /// Byte offset of the function in its section.
    public var sectionOffset: Int
    /// The section-name rule that matched; nil for names libbpf does not know.
    public var sectionDefinition: SectionDefinition?
    public var type: ProgramType
    /// `expected_attach_type`; nil where libbpf sends 0.
    public var expectedAttachType: AttachType?
    /// What the section name says to attach to, e.g. "syscalls/sys_enter_openat".
    public var attachTarget: String?
    /// `prog_flags` libbpf adds: `BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS`.
    public var loadFlags: UInt32
    /// Whether the function symbol is global (libbpf refuses static entry points).
    public var isGlobal: Bool
    /// The linked code, in the host's view (decoded from the object's byte order).
    public var instructions: [RawInstruction]
    /// `instructions` as a validated program; nil when they do not decode (the error is in
    /// `validationError`).
    public var program: Program?
    public var validationError: DecodeError?
    public var relocations: [ProgramRelocation]
    public var functions: [Function]
    /// BTF func info re-based onto `instructions`. `instructionOffset` still counts bytes,
    /// as in `.BTF.ext`, so `instructionIndex` is the slot; the kernel wants the slot.
    public var functionInfo: [BTFExt.FunctionInfo]
    /// BTF line info, re-based the same way.
    public var lineInfo: [BTFExt.LineInfo]
    /// CO-RE relocations, re-based the same way, still to be applied against a kernel's BTF.
    public var coreRelocations: [BTFExt.CORERelocation]
    public var license: String?
    public var kernelVersion: UInt32?

    public static let sleepableFlag: UInt32 = 1 << 4         // BPF_F_SLEEPABLE
    public static let xdpHasFragmentsFlag: UInt32 = 1 << 5   // BPF_F_XDP_HAS_FRAGS

    /// The linked function that contains slot `index`.
    public func function(containing index: Int) -> Function? {
        functions.first { index >= $0.start && index < $0.start + $0.count }
    }
}
