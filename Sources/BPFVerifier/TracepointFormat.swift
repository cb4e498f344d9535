/// The layout of a tracepoint's record, as tracefs describes it in
/// `events/<category>/<name>/format`: the fields a tracepoint program's context holds. With
/// it, the verifier refuses reads past the record's end, which the kernel refuses when the
/// program is attached (its max_ctx_offset against the record's size).
public struct TracepointFormat: Sendable, Hashable {
    public struct Field: Sendable, Hashable {
        public var name: String
        /// The C declaration without the name, as tracefs gives it ("const char *", "char[16]").
        public var type: String
        public var offset: Int
        public var size: Int
        public var isSigned: Bool
    }

    /// The event's name ("sys_enter_openat").
    public var name: String
    public var id: Int?
    public var fields: [Field]

    /// Bytes from the record's start to the end of its last field.
    public var recordSize: Int { fields.map { $0.offset + $0.size }.max() ?? 0 }

    /// The field that holds the byte at `offset`, if one does.
    public func field(at offset: Int) -> Field? {
        fields.first { $0.offset <= offset && offset < $0.offset + $0.size }
    }

    /// Parses the text of a format file.
    public init(parsing text: String) throws(TracepointFormatError) {
        var name: String?, id: Int?, fields: [Field] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("name:") {
                name = String(line.dropFirst(5)).trimmingLeadingSpaces
            } else if line.hasPrefix("ID:") {
                guard let value = Int(String(line.dropFirst(3)).trimmingLeadingSpaces) else {
                    throw TracepointFormatError(line: number + 1, message: "the ID is not a number")
                }
                id = value
            } else if line.hasPrefix("field:") {
                fields.append(try Self.field(line, line: number + 1))
            }
        }
        guard let name, !name.isEmpty else { throw TracepointFormatError(line: 1, message: "there is no 'name:' line") }
        guard !fields.isEmpty else { throw TracepointFormatError(line: 1, message: "there are no 'field:' lines") }
        self.name = name
        self.id = id
        self.fields = fields
    }

    /// `field:TYPE NAME;	offset:N;	size:N;	signed:N;`
    private static func field(_ text: Substring, line: Int) throws(TracepointFormatError) -> Field {
        var declaration: String?, offset: Int?, size: Int?, isSigned = false
        for part in text.split(separator: ";") {
            let item = part.drop { $0 == " " || $0 == "\t" }
            guard let colon = item.firstIndex(of: ":") else { continue }
            let key = item[..<colon], value = String(item[item.index(after: colon)...])
            switch key {
            case "field": declaration = value
            case "offset": offset = Int(value)
            case "size": size = Int(value)
            case "signed": isSigned = value == "1"
            default: break
            }
        }
        guard let declaration, let space = declaration.lastIndex(where: { $0 == " " || $0 == "*" }) else {
            throw TracepointFormatError(line: line, message: "the field has no type and name")
        }
        guard let offset, offset >= 0, offset < 1 << 16 else {
            throw TracepointFormatError(line: line, message: "the field's offset is missing or not a number below 65536")
        }
        guard let size, size > 0, size < 1 << 16 else {
            throw TracepointFormatError(line: line, message: "the field's size is missing or not a positive number below 65536")
        }
        var fieldName = String(declaration[declaration.index(after: space)...])
        var type = String(declaration[...space]).trimmingTrailingSpaces
        // "char prev_comm[16]": the array bound belongs to the type.
        if let bracket = fieldName.firstIndex(of: "[") {
            type += String(fieldName[bracket...])
            fieldName = String(fieldName[..<bracket])
        }
        guard !fieldName.isEmpty else { throw TracepointFormatError(line: line, message: "the field has no name") }
        return Field(name: fieldName, type: type, offset: offset, size: size, isSigned: isSigned)
    }
}

/// Why a format file does not parse: the line and what is wrong there.
public struct TracepointFormatError: Error, Sendable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public var description: String { "line \(line): \(message)" }
}

extension String {
    var trimmingTrailingSpaces: String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
