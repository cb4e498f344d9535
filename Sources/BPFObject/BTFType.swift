/// A BTF type id: an index into `BTF.types`. Id 0 is `void`; split BTF continues the
/// numbering of its base.
public typealias BTFTypeID = UInt32

/// The kind numbers of `include/uapi/linux/btf.h`.
public enum BTFKind: UInt8, Sendable, Hashable, CaseIterable {
    case void = 0
    case int = 1
    case pointer = 2
    case array = 3
    case `struct` = 4
    case union = 5
    case `enum` = 6
    case forward = 7
    case typedef = 8
    case volatile = 9
    case const = 10
    case restrict = 11
    case function = 12
    case functionPrototype = 13
    case variable = 14
    case dataSection = 15
    case float = 16
    case declTag = 17
    case typeTag = 18
    case enum64 = 19

    /// The kernel's and bpftool's spelling: `INT`, `FUNC_PROTO`, `DATASEC`... (`UNKNOWN` for void).
    public var name: String {
        switch self {
        case .void: "UNKNOWN"
        case .int: "INT"
        case .pointer: "PTR"
        case .array: "ARRAY"
        case .struct: "STRUCT"
        case .union: "UNION"
        case .enum: "ENUM"
        case .forward: "FWD"
        case .typedef: "TYPEDEF"
        case .volatile: "VOLATILE"
        case .const: "CONST"
        case .restrict: "RESTRICT"
        case .function: "FUNC"
        case .functionPrototype: "FUNC_PROTO"
        case .variable: "VAR"
        case .dataSection: "DATASEC"
        case .float: "FLOAT"
        case .declTag: "DECL_TAG"
        case .typeTag: "TYPE_TAG"
        case .enum64: "ENUM64"
        }
    }
}

/// One BTF type. Names are string-table offsets (resolve them with `BTF.strings` or
/// `BTF.name(of:)`), so that parsing creates no strings; member, parameter, value and
/// variable lists are slices of flat arrays shared by the whole `BTF`.
public struct BTFType: Sendable, Hashable {
    /// Offset of the name in the string table; 0 for anonymous types.
    public var nameOffset: UInt32
    public var body: Body

    public init(nameOffset: UInt32, body: Body) {
        self.nameOffset = nameOffset
        self.body = body
    }

    public enum Body: Sendable, Hashable {
        case void
        case int(BTFInt)
        case pointer(to: BTFTypeID)
        case array(BTFArray)
        case `struct`(BTFComposite)
        case union(BTFComposite)
        case `enum`(BTFEnum)
        case enum64(BTFEnum)
        case forward(BTFForwardKind)
        case typedef(BTFTypeID)
        case volatile(BTFTypeID)
        case const(BTFTypeID)
        case restrict(BTFTypeID)
        case function(BTFFunction)
        case functionPrototype(BTFFunctionPrototype)
        case variable(BTFVariable)
        case dataSection(BTFDataSection)
        case float(size: UInt32)
        case declTag(BTFDeclTag)
        case typeTag(BTFTypeID)
    }

    public var kind: BTFKind {
        switch body {
        case .void: .void
        case .int: .int
        case .pointer: .pointer
        case .array: .array
        case .struct: .struct
        case .union: .union
        case .enum: .enum
        case .enum64: .enum64
        case .forward: .forward
        case .typedef: .typedef
        case .volatile: .volatile
        case .const: .const
        case .restrict: .restrict
        case .function: .function
        case .functionPrototype: .functionPrototype
        case .variable: .variable
        case .dataSection: .dataSection
        case .float: .float
        case .declTag: .declTag
        case .typeTag: .typeTag
        }
    }

    /// The type this one refers to, for the kinds whose `type` field is a single reference
    /// (pointer, typedef, qualifiers, function, variable, tags).
    public var referencedType: BTFTypeID? {
        switch body {
        case .pointer(let id), .typedef(let id), .volatile(let id), .const(let id), .restrict(let id), .typeTag(let id):
            id
        case .function(let function): function.type
        case .variable(let variable): variable.type
        case .declTag(let tag): tag.type
        default: nil
        }
    }
}

public struct BTFInt: Sendable, Hashable {
    public struct Encoding: OptionSet, Sendable, Hashable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let signed = Encoding(rawValue: 1)
        public static let char = Encoding(rawValue: 2)
        public static let bool = Encoding(rawValue: 4)
    }

    /// Size in bytes.
    public var size: UInt32
    public var encoding: Encoding
    /// Bit offset of the value inside its storage (old-style bitfields).
    public var bitOffset: UInt8
    /// Number of significant bits.
    public var bits: UInt8

    public init(size: UInt32, encoding: Encoding, bitOffset: UInt8, bits: UInt8) {
        self.size = size
        self.encoding = encoding
        self.bitOffset = bitOffset
        self.bits = bits
    }
}

public struct BTFArray: Sendable, Hashable {
    public var elementType: BTFTypeID
    public var indexType: BTFTypeID
    public var count: UInt32

    public init(elementType: BTFTypeID, indexType: BTFTypeID, count: UInt32) {
        self.elementType = elementType
        self.indexType = indexType
        self.count = count
    }
}

/// A struct or union.
public struct BTFComposite: Sendable, Hashable {
    public var size: UInt32
    /// The kind_flag: member offsets carry a bitfield size in their top 8 bits.
    public var hasBitfieldSizes: Bool
    public var members: ArraySlice<BTFMember>

    public init(size: UInt32, hasBitfieldSizes: Bool, members: ArraySlice<BTFMember>) {
        self.size = size
        self.hasBitfieldSizes = hasBitfieldSizes
        self.members = members
    }
}

public struct BTFMember: Sendable, Hashable {
    public var nameOffset: UInt32
    public var type: BTFTypeID
    public var bitOffset: UInt32
    /// Width of a bitfield member when the composite has the kind_flag; 0 otherwise.
    public var bitfieldSize: UInt8

    public init(nameOffset: UInt32, type: BTFTypeID, bitOffset: UInt32, bitfieldSize: UInt8) {
        self.nameOffset = nameOffset
        self.type = type
        self.bitOffset = bitOffset
        self.bitfieldSize = bitfieldSize
    }
}

/// An enum (32-bit values) or enum64.
public struct BTFEnum: Sendable, Hashable {
    public var size: UInt32
    /// The kind_flag: values are signed.
    public var isSigned: Bool
    public var values: ArraySlice<BTFEnumerator>

    public init(size: UInt32, isSigned: Bool, values: ArraySlice<BTFEnumerator>) {
        self.size = size
        self.isSigned = isSigned
        self.values = values
    }
}

public struct BTFEnumerator: Sendable, Hashable {
    public var nameOffset: UInt32
    /// The value as 64 bits: 32-bit values are sign-extended when the enum is signed and
    /// zero-extended otherwise, so `signedValue` and `unsignedValue` both read it right.
    public var bitPattern: UInt64

    public init(nameOffset: UInt32, bitPattern: UInt64) {
        self.nameOffset = nameOffset
        self.bitPattern = bitPattern
    }

    public var signedValue: Int64 { Int64(bitPattern: bitPattern) }
    public var unsignedValue: UInt64 { bitPattern }
}

public enum BTFForwardKind: Sendable, Hashable {
    case `struct`, union
}

/// Linkage of a function or variable (`BTF_FUNC_*`, `BTF_VAR_*`; the numbers agree).
public enum BTFLinkage: UInt32, Sendable, Hashable {
    case `static` = 0
    /// `BTF_VAR_GLOBAL_ALLOCATED` for variables.
    case global = 1
    case extern = 2
}

public struct BTFFunction: Sendable, Hashable {
    /// The function's prototype.
    public var type: BTFTypeID
    public var linkage: BTFLinkage

    public init(type: BTFTypeID, linkage: BTFLinkage) {
        self.type = type
        self.linkage = linkage
    }
}

public struct BTFFunctionPrototype: Sendable, Hashable {
    /// 0 for `void`.
    public var returnType: BTFTypeID
    /// The named parameters; a variadic prototype's trailing `...` marker is not among them.
    public var parameters: ArraySlice<BTFParameter>
    public var isVariadic: Bool

    public init(returnType: BTFTypeID, parameters: ArraySlice<BTFParameter>, isVariadic: Bool) {
        self.returnType = returnType
        self.parameters = parameters
        self.isVariadic = isVariadic
    }
}

public struct BTFParameter: Sendable, Hashable {
    public var nameOffset: UInt32
    public var type: BTFTypeID

    public init(nameOffset: UInt32, type: BTFTypeID) {
        self.nameOffset = nameOffset
        self.type = type
    }
}

public struct BTFVariable: Sendable, Hashable {
    public var type: BTFTypeID
    public var linkage: BTFLinkage

    public init(type: BTFTypeID, linkage: BTFLinkage) {
        self.type = type
        self.linkage = linkage
    }
}

public struct BTFDataSection: Sendable, Hashable {
    public var size: UInt32
    public var variables: ArraySlice<BTFDataSectionVariable>

    public init(size: UInt32, variables: ArraySlice<BTFDataSectionVariable>) {
        self.size = size
        self.variables = variables
    }
}

public struct BTFDataSectionVariable: Sendable, Hashable {
    /// A `variable` (or, for kernel BTF, sometimes a `function`) type.
    public var type: BTFTypeID
    public var offset: UInt32
    public var size: UInt32

    public init(type: BTFTypeID, offset: UInt32, size: UInt32) {
        self.type = type
        self.offset = offset
        self.size = size
    }
}

public struct BTFDeclTag: Sendable, Hashable {
    /// The tagged struct, union, variable, function or typedef.
    public var type: BTFTypeID
    /// The member or parameter index the tag applies to; nil for the declaration itself
    /// (`component_idx` -1).
    public var componentIndex: Int32?

    public init(type: BTFTypeID, componentIndex: Int32?) {
        self.type = type
        self.componentIndex = componentIndex
    }
}
