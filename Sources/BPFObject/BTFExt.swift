import BPFInstructions

/// A parsed `.BTF.ext` section: per ELF section, the BTF function of each function
/// (func info), the source line of instructions (line info), and the CO-RE relocations.
/// Names and access strings live in the `.BTF` string table, so parsing needs the `BTF`.
///
/// Record sizes come from the section's header; records longer than the ones described
/// here (from a newer compiler) are read for their known fields and the rest is skipped.
public struct BTFExt: Sendable {
    public var byteOrder: ByteOrder
    public var functionInfo: [Section<FunctionInfo>]
    public var lineInfo: [Section<LineInfo>]
    public var coreRelocations: [Section<CORERelocation>]
    /// Record sizes as the header gave them (0 when the part is absent), needed to hand the
    /// records to the kernel unchanged.
    public var functionInfoRecordSize: Int
    public var lineInfoRecordSize: Int
    public var coreRelocationRecordSize: Int

    public init(
        byteOrder: ByteOrder = .little, functionInfo: [Section<FunctionInfo>] = [], lineInfo: [Section<LineInfo>] = [],
        coreRelocations: [Section<CORERelocation>] = []
    ) {
        self.byteOrder = byteOrder
        self.functionInfo = functionInfo
        self.lineInfo = lineInfo
        self.coreRelocations = coreRelocations
        functionInfoRecordSize = FunctionInfo.minimumSize
        lineInfoRecordSize = LineInfo.minimumSize
        coreRelocationRecordSize = CORERelocation.minimumSize
    }

    /// The records for one ELF section (a program's code section, such as `kprobe/do_exit`).
    public struct Section<Record: Sendable & Hashable>: Sendable, Hashable {
        public var name: String
        public var nameOffset: UInt32
        public var records: [Record]

        public init(name: String, nameOffset: UInt32, records: [Record]) {
            self.name = name
            self.nameOffset = nameOffset
            self.records = records
        }
    }

    /// `bpf_func_info`: the function starting at an instruction.
    public struct FunctionInfo: Sendable, Hashable {
        static let minimumSize = 8
        /// Byte offset of the instruction in the section (libbpf converts to an index).
        public var instructionOffset: UInt32
        /// A `function` type.
        public var typeID: BTFTypeID

        public init(instructionOffset: UInt32, typeID: BTFTypeID) {
            self.instructionOffset = instructionOffset
            self.typeID = typeID
        }

        public var instructionIndex: Int { Int(instructionOffset) / 8 }
    }

    /// `bpf_line_info`: the source line of an instruction.
    public struct LineInfo: Sendable, Hashable {
        static let minimumSize = 16
        public var instructionOffset: UInt32
        public var fileNameOffset: UInt32
        public var lineOffset: UInt32
        /// Line number in the top 22 bits, column in the low 10, as the kernel packs them.
        public var lineAndColumn: UInt32
        public var fileName: String
        /// The source text of the line.
        public var line: String

        public init(
            instructionOffset: UInt32, fileNameOffset: UInt32, lineOffset: UInt32, lineAndColumn: UInt32,
            fileName: String, line: String
        ) {
            self.instructionOffset = instructionOffset
            self.fileNameOffset = fileNameOffset
            self.lineOffset = lineOffset
            self.lineAndColumn = lineAndColumn
            self.fileName = fileName
            self.line = line
        }

        public var instructionIndex: Int { Int(instructionOffset) / 8 }
        public var lineNumber: Int { Int(lineAndColumn >> 10) }
        public var column: Int { Int(lineAndColumn & 0x3ff) }
    }

    /// `bpf_core_relo`: an instruction whose offset, size or immediate depends on a type
    /// of the kernel it will run on.
    public struct CORERelocation: Sendable, Hashable {
        static let minimumSize = 16
        public var instructionOffset: UInt32
        /// The root type in the program's own BTF.
        public var typeID: BTFTypeID
        public var accessStringOffset: UInt32
        /// `0:1:2`-style indexes from the root type: the first steps through the pointer
        /// (array index), the others pick members or array elements; for enum value
        /// relocations, the value's index.
        public var accessString: String
        public var kind: CORERelocationKind

        public init(
            instructionOffset: UInt32, typeID: BTFTypeID, accessStringOffset: UInt32, accessString: String,
            kind: CORERelocationKind
        ) {
            self.instructionOffset = instructionOffset
            self.typeID = typeID
            self.accessStringOffset = accessStringOffset
            self.accessString = accessString
            self.kind = kind
        }

        public var instructionIndex: Int { Int(instructionOffset) / 8 }

        /// The access string's indexes; nil when it is not colon-separated decimals.
        public var accessIndexes: [Int]? {
            var indexes: [Int] = []
            for part in accessString.split(separator: ":", omittingEmptySubsequences: false) {
                guard let index = Int(part), index >= 0 else { return nil }
                indexes.append(index)
            }
            return indexes.isEmpty ? nil : indexes
        }
    }
}

/// `enum bpf_core_relo_kind`.
public enum CORERelocationKind: UInt32, Sendable, Hashable, CaseIterable {
    case fieldByteOffset = 0
    case fieldByteSize = 1
    case fieldExists = 2
    case fieldSigned = 3
    case fieldLeftShift = 4
    case fieldRightShift = 5
    case typeIDLocal = 6
    case typeIDTarget = 7
    case typeExists = 8
    case typeSize = 9
    case enumValueExists = 10
    case enumValue = 11
    case typeMatches = 12

    /// libbpf's spelling, as in its debug output.
    public var name: String {
        switch self {
        case .fieldByteOffset: "byte_off"
        case .fieldByteSize: "byte_sz"
        case .fieldExists: "field_exists"
        case .fieldSigned: "signed"
        case .fieldLeftShift: "lshift_u64"
        case .fieldRightShift: "rshift_u64"
        case .typeIDLocal: "local_type_id"
        case .typeIDTarget: "target_type_id"
        case .typeExists: "type_exists"
        case .typeSize: "type_size"
        case .enumValueExists: "enumval_exists"
        case .enumValue: "enumval_value"
        case .typeMatches: "type_matches"
        }
    }
}
