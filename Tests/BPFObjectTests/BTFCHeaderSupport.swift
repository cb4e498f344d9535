import BPFInstructions
import BPFObject
import Foundation

/// Checks for generated C headers: bpftool's header as the reference, and a layout round
/// trip — compile the header, let clang describe every type it defines as BTF again, and
/// compare sizes and member offsets with the BTF the header came from.
enum BTFCHeaderSupport {
    /// `bpftool btf dump file PATH format c`, or nil when bpftool is absent.
    static func bpftoolHeader(_ path: String) throws -> String? {
        guard let bpftool = BTFTestSupport.findExecutable("bpftool") else { return nil }
        return String(decoding: try BTFTestSupport.run(bpftool, ["btf", "dump", "file", path, "format", "c"]), as: UTF8.self)
    }

    /// Our header as the installed bpftool would write it. bpftool 7.1 (libbpf before
    /// 1.2) lacks `__attribute__((mode(byte)))` on one-byte enums, without which the
    /// enum is 4 bytes and structs holding it are laid out wrong; when the reference
    /// lacks it, it is taken out of ours before comparing.
    static func comparable(_ ours: String, with reference: String) -> String {
        reference.contains("mode(byte)") ? ours : ours.replacingOccurrences(of: " __attribute__((mode(byte)))", with: "")
    }

    /// The first few differing lines, for a readable failure.
    static func differences(_ ours: String, _ reference: String, limit: Int = 5) -> [String] {
        let mine = ours.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let theirs = reference.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return BTFTestSupport.mismatches(mine, theirs, limit: limit)
    }

    /// Names of the structs, unions and enums a header defines at top level, in order
    /// (`struct task_struct`); anonymous top-level enums have none.
    static func definedNames(_ header: String) -> [String] {
        header.split(separator: "\n").compactMap { line -> String? in
            for keyword in ["struct ", "union ", "enum "] where line.hasPrefix(keyword) {
                for opening in [" {", " {};"] where line.hasSuffix(opening) && line.count > keyword.count + opening.count {
                    return String(line.dropLast(opening.count))
                }
            }
            return nil
        }
    }

    /// Compiles `header` for BPF with a probe that declares a variable of every struct,
    /// union and enum it defines, and returns the probe's BTF. Throws with clang's
    /// errors when the header does not compile.
    static func compileProbe(header: String, in directory: URL) throws -> BTF {
        let headerURL = directory.appendingPathComponent("generated.h")
        try header.write(to: headerURL, atomically: true, encoding: .utf8)
        var probe = "#include \"generated.h\"\n"
        for (index, name) in definedNames(header).enumerated() {
            probe += "\(name) probe_\(index) __attribute__((used));\n"
        }
        let source = directory.appendingPathComponent("probe.c")
        try probe.write(to: source, atomically: true, encoding: .utf8)
        let object = directory.appendingPathComponent("probe.o")
        try BTFTestSupport.run(BTFTestSupport.clang, ["-target", "bpf", "-O2", "-g", "-Werror", "-Wno-pragma-clang-attribute", "-c", source.path, "-o", object.path])
        let elf = try ELFFile(parsing: Array(try Data(contentsOf: object)))
        guard let section = elf.section(named: ".BTF") else { throw BTFTestSupport.ProcessFailure(description: "probe has no .BTF") }
        return try BTF(parsing: Array(try elf.contents(of: section)))
    }

    /// Layout differences between `original` and the probe's BTF for every struct, union
    /// and enum whose name is unique in the original: size, and each member's name, bit
    /// offset and bitfield size. Returns the differences and how many types were compared.
    static func layoutDifferences(original: BTF, probe: BTF) -> (differences: [String], compared: Int) {
        var differences: [String] = []
        var compared = 0
        var seen: [String: Int] = [:]
        for id in original.ownIDs {
            guard let kind = original.kind(of: id), kind == .struct || kind == .union || kind == .enum || kind == .enum64,
                  let name = original.name(of: id) else { continue }
            seen[name, default: 0] += 1
        }
        var probeIDs: [String: [BTFTypeID]] = [:]
        for id in probe.ownIDs {
            if let name = probe.name(of: id) { probeIDs[name, default: []].append(id) }
        }
        for id in original.ownIDs {
            guard let type = original.type(id), let name = original.name(of: id), seen[name] == 1 else { continue }
            // The compiler's va_list is 24 bytes on x86-64 and 8 for BPF: any header
            // compiled for BPF lays out what embeds one differently.
            if embedsVaList(id, in: original) { continue }
            let candidates = (probeIDs[name] ?? []).filter { probe.kind(of: $0) == type.kind }
            switch type.body {
            case .struct(let composite), .union(let composite):
                guard let probeID = candidates.first, let copy = probe.type(probeID)?.body.composite else {
                    differences.append("\(name): not defined by the header")
                    continue
                }
                compared += 1
                if copy.size != composite.size { differences.append("\(name): size \(copy.size), BTF says \(composite.size)") }
                let expected = composite.members.map { member(original, composite, $0) }
                let found = copy.members.map { member(probe, copy, $0) }
                if expected != found { differences.append("\(name): members \(found), BTF says \(expected)") }
            case .enum(let values), .enum64(let values):
                guard !values.values.isEmpty else { continue }
                guard let probeID = candidates.first, let size = probe.size(of: probeID) else {
                    differences.append("\(name): enum not defined by the header")
                    continue
                }
                compared += 1
                if size != Int(values.size) { differences.append("enum \(name): size \(size), BTF says \(values.size)") }
            default:
                continue
            }
        }
        return (differences, compared)
    }

    /// Whether the type holds a `__builtin_va_list` by value, at any depth.
    static func embedsVaList(_ id: BTFTypeID, in btf: BTF, depth: Int = 0) -> Bool {
        guard depth < 32, let type = btf.type(id) else { return false }
        switch type.body {
        case .typedef(let target):
            return btf.name(of: id) == "__builtin_va_list" || embedsVaList(target, in: btf, depth: depth + 1)
        case .const(let target), .volatile(let target), .restrict(let target), .typeTag(let target):
            return embedsVaList(target, in: btf, depth: depth + 1)
        case .array(let array):
            return embedsVaList(array.elementType, in: btf, depth: depth + 1)
        case .struct(let composite), .union(let composite):
            return composite.members.contains { embedsVaList($0.type, in: btf, depth: depth + 1) }
        default:
            return false
        }
    }

    private static func member(_ btf: BTF, _ composite: BTFComposite, _ member: BTFMember) -> String {
        let name = btf.strings.string(at: member.nameOffset) ?? "?"
        return composite.hasBitfieldSizes && member.bitfieldSize != 0
            ? "\(name)@\(member.bitOffset):\(member.bitfieldSize)" : "\(name)@\(member.bitOffset)"
    }
}

extension BTFType.Body {
    /// The struct or union body, whichever it is.
    var composite: BTFComposite? {
        switch self {
        case .struct(let composite), .union(let composite): composite
        default: nil
        }
    }
}
