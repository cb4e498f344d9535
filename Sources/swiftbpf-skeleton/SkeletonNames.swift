/// How names in an object become names in its skeleton.
enum SkeletonNames {
    /// "execsnoop.bpf.c" → "execsnoop".
    static func objectName(forSource source: String) -> String {
        var name = Substring(source)
        for suffix in [".c", ".bpf"] where name.hasSuffix(suffix) { name = name.dropLast(suffix.count) }
        return String(name)
    }

    /// "tcp_life" or "tcp-life" → "TcpLifeSkeleton".
    static func typeName(forObject object: String) -> String {
        let words = object.split(whereSeparator: { !($0.isLetter || $0.isNumber) })
        var name = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        if name.first?.isNumber ?? true { name = "BPF" + name }
        return name + "Skeleton"
    }

    /// A C identifier as a Swift identifier: the same, in backticks where it is a keyword.
    static func identifier(_ name: String) -> String {
        keywords.contains(name) ? "`\(name)`" : name
    }

    private static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
        "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static", "struct",
        "subscript", "typealias", "var", "break", "case", "continue", "default", "defer", "do", "else",
        "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while", "as", "catch",
        "false", "is", "nil", "self", "Self", "super", "throw", "throws", "true", "try", "Any", "Type",
    ]
}
