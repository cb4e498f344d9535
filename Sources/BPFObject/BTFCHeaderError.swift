/// Why BTF could not be written as a C header. Parsing accepts type graphs that C cannot
/// declare (a struct that contains itself), so these come from the graph, not the bytes.
public struct BTFCHeaderError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// A struct or union contains itself by value, or an anonymous one is reached
        /// again through a pointer: no order of C declarations can define it (libbpf's
        /// "unsatisfiable type cycle").
        case unsatisfiableCycle
        /// References nest deeper than any C declaration does: a loop of typedefs,
        /// qualifiers or arrays.
        case nestingTooDeep
        /// A struct's padding runs to more bits than a header should spell out.
        case paddingTooLarge(bits: Int)
    }

    public var reason: Reason
    /// The type being ordered or written when the problem showed.
    public var typeID: BTFTypeID

    public init(_ reason: Reason, typeID: BTFTypeID) {
        self.reason = reason
        self.typeID = typeID
    }

    public var description: String {
        switch reason {
        case .unsatisfiableCycle: "type [\(typeID)]: unsatisfiable type cycle, no C declaration order defines it"
        case .nestingTooDeep: "type [\(typeID)]: type references nest too deep (a loop?)"
        case .paddingTooLarge(let bits): "type [\(typeID)]: \(bits) bits of padding is too large to write out"
        }
    }
}
