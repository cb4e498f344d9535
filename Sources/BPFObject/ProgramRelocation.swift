/// A reference in a linked program that a loader completes: which instruction, and what it
/// refers to. Instructions already carry a form the kernel accepts with an fd array in map
/// order (`BPF_PSEUDO_MAP_IDX`, `BPF_PSEUDO_MAP_IDX_VALUE`); a loader that passes map fds
/// directly rewrites them as `BPF_PSEUDO_MAP_FD` / `BPF_PSEUDO_MAP_VALUE` from this list.
public struct ProgramRelocation: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        /// `lddw rX, map`: the map at this index of `ObjectFile.maps`.
        case map(index: Int)
        /// `lddw rX, &variable`: `offset` bytes into the value of the map at `index` (global
        /// data, string literals).
        case mapValue(index: Int, offset: UInt32)
        /// A bpf-to-bpf call, already linked: the callee starts at slot `instruction`.
        case subprogramCall(name: String, instruction: Int)
        /// `lddw rX, function` (`BPF_PSEUDO_FUNC`, callbacks such as `bpf_loop`'s), linked.
        case functionAddress(name: String, instruction: Int)
        /// An `extern ... __kconfig` variable: `offset` into the `.kconfig` map at `mapIndex`.
        case kconfig(name: String, mapIndex: Int, offset: UInt32)
        /// An `extern ... __ksym` variable, resolved against the kernel's BTF or kallsyms.
        case kernelVariable(name: String)
        /// A kfunc call (`call` with src=2), resolved by name against the kernel's BTF.
        case kernelFunction(name: String)
    }

    /// Slot index in the linked program.
    public var instruction: Int
    public var target: Target

    public init(instruction: Int, target: Target) {
        self.instruction = instruction
        self.target = target
    }
}
