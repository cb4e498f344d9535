/// Why a classic program has no eBPF translation for the target asked for.
public struct ClassicTranslationError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// A socket filter has no way to read this ancillary field: no `__sk_buff` field and
        /// no helper it may call gives it (the kernel's own converter uses internal calls).
        case ancillaryFieldUnavailable(AncillaryField)
        /// The translation needs a jump farther than eBPF can encode.
        case tooLarge(String)
        /// The `.packet` target has only the packet; this needs the context block.
        case needsContext(String)
    }

    /// Index of the classic instruction at fault.
    public var index: Int
    public var reason: Reason

    public init(index: Int, reason: Reason) {
        self.index = index
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .ancillaryFieldUnavailable(let field):
            "instruction \(index): a socket filter cannot read the ancillary field \(field.name) (\(field))"
        case .tooLarge(let why): "instruction \(index): the translation is too large: \(why)"
        case .needsContext(let what): "instruction \(index): \(what) needs the context block; translate for the VM with it"
        }
    }
}
