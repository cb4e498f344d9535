/// An `extern` the object leaves for the loader to fill: a kernel configuration value
/// (`__kconfig`, read from the kernel's config into the `.kconfig` map), a kernel variable
/// (`__ksym`, found by name in kernel BTF or kallsyms) or a kernel function (kfunc, called
/// by BTF id).
public struct ExternSpec: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A `.kconfig` value at `offset` in the `.kconfig` map.
        case kconfig(offset: Int, size: Int, type: KconfigType)
        /// A `.ksyms` variable; `typed` when its BTF type is not `void` (then resolved to a
        /// BTF id, else to an address).
        case kernelVariable(typed: Bool)
        /// A `.ksyms` function, called with `call` src=2.
        case kernelFunction
    }

    /// What a `.kconfig` extern's C type allows, as libbpf classifies it.
    public enum KconfigType: Sendable, Hashable {
        case bool, character, tristate, characterArray
        case integer(signed: Bool)
    }

    public var name: String
    public var kind: Kind
    /// Weak externs may stay unresolved (they read as zero).
    public var isWeak: Bool
    /// The `VAR` or `FUNC` type in the object's BTF.
    public var btfTypeID: BTFTypeID
    /// Index of the ELF symbol.
    public var symbolIndex: Int

    public init(name: String, kind: Kind, isWeak: Bool, btfTypeID: BTFTypeID, symbolIndex: Int) {
        self.name = name
        self.kind = kind
        self.isWeak = isWeak
        self.btfTypeID = btfTypeID
        self.symbolIndex = symbolIndex
    }

    public var isKconfig: Bool { if case .kconfig = kind { true } else { false } }
}

extension ExternSpec {
    /// libbpf's `bpf_object__collect_externs`: every undefined untyped global symbol, typed
    /// through BTF, sorted kconfig first (by alignment down, size up, name) then ksyms by
    /// name, with kconfig offsets laid out in that order.
    static func collect(elf: ELFFile, btf: BTF?) throws(ObjectError) -> [ExternSpec] {
        var found: [(spec: ExternSpec, alignment: Int, size: Int)] = []
        for symbol in elf.symbols where symbol.isExtern && !symbol.name.isEmpty {
            guard let btf else {
                throw ObjectError(.badExtern, "extern needs BTF, and the object has none", symbol: symbol.name)
            }
            guard let id = btf.ownIDs.first(where: {
                let kind = btf.kind(of: $0)
                return (kind == .variable || kind == .function) && btf.name(of: $0) == symbol.name
            }) else {
                throw ObjectError(.badExtern, "no BTF variable or function for extern", section: ".BTF", symbol: symbol.name)
            }
            let (linkage, referenced, isFunction): (BTFLinkage, BTFTypeID, Bool) = switch btf.type(id)?.body {
            case .variable(let variable): (variable.linkage, variable.type, false)
            case .function(let function): (function.linkage, function.type, true)
            default: (.static, 0, false)
            }
            guard linkage == .extern else {
                throw ObjectError(.badExtern, "BTF type [\(id)] of the extern is not extern", section: ".BTF", symbol: symbol.name)
            }
            guard let sectionName = Self.dataSectionName(containing: id, in: btf) else {
                throw ObjectError(.badExtern, "extern is in no BTF data section", section: ".BTF", symbol: symbol.name)
            }
            let isWeak = symbol.binding == .weak
            switch sectionName {
            case ".kconfig":
                guard !isFunction else {
                    throw ObjectError(.badExtern, "extern functions are not allowed in .kconfig", symbol: symbol.name)
                }
                guard let size = btf.size(of: referenced), size > 0 else {
                    throw ObjectError(.badExtern, "cannot size the .kconfig extern's type", symbol: symbol.name)
                }
                guard let alignment = Self.alignment(of: referenced, in: btf) else {
                    throw ObjectError(.badExtern, "cannot align the .kconfig extern's type", symbol: symbol.name)
                }
                guard let type = Self.kconfigType(of: referenced, in: btf) else {
                    throw ObjectError(.badExtern, ".kconfig extern has an unsupported type", symbol: symbol.name)
                }
                found.append((ExternSpec(name: symbol.name, kind: .kconfig(offset: 0, size: size, type: type), isWeak: isWeak,
                                         btfTypeID: id, symbolIndex: symbol.index), alignment, size))
            case ".ksyms":
                let kind: Kind = isFunction ? .kernelFunction : .kernelVariable(typed: btf.resolved(referenced).map { $0 != 0 } ?? false)
                found.append((ExternSpec(name: symbol.name, kind: kind, isWeak: isWeak, btfTypeID: id, symbolIndex: symbol.index), 0, 0))
            default:
                throw ObjectError(.badExtern, "extern in unrecognised section '\(sectionName)'", symbol: symbol.name)
            }
        }
        found.sort { a, b in
            if a.spec.isKconfig != b.spec.isKconfig { return a.spec.isKconfig }
            if a.spec.isKconfig {
                if a.alignment != b.alignment { return a.alignment > b.alignment }
                if a.size != b.size { return a.size < b.size }
            }
            return a.spec.name.utf8.lexicographicallyPrecedes(b.spec.name.utf8)
        }
        var offset = 0
        return found.map { entry in
            var spec = entry.spec
            if case .kconfig(_, let size, let type) = spec.kind {
                offset = (offset + entry.alignment - 1) / entry.alignment * entry.alignment
                spec.kind = .kconfig(offset: offset, size: size, type: type)
                offset += size
            }
            return spec
        }
    }

    /// The name of the first DATASEC listing `variable`.
    private static func dataSectionName(containing variable: BTFTypeID, in btf: BTF) -> String? {
        for id in btf.ownIDs where btf.kind(of: id) == .dataSection {
            guard case .dataSection(let section)? = btf.type(id)?.body,
                  section.variables.contains(where: { $0.type == variable }) else { continue }
            return btf.name(of: id) ?? ""
        }
        return nil
    }

    /// `btf__align_of` for the types a kconfig extern can have (ints, enums, char arrays).
    /// `depth` stops arrays that contain themselves, which a hostile BTF can declare.
    private static func alignment(of id: BTFTypeID, in btf: BTF, depth: Int = 0) -> Int? {
        guard depth < 32, let resolved = btf.resolved(id), let type = btf.type(resolved) else { return nil }
        switch type.body {
        case .int(let int): return max(1, min(Int(int.size), BTF.pointerSize))
        case .enum(let values), .enum64(let values): return max(1, min(Int(values.size), BTF.pointerSize))
        case .float(let size): return max(1, min(Int(size), BTF.pointerSize))
        case .pointer: return BTF.pointerSize
        case .array(let array): return alignment(of: array.elementType, in: btf, depth: depth + 1)
        default: return nil
        }
    }

    /// libbpf's `find_kcfg_type`.
    private static func kconfigType(of id: BTFTypeID, in btf: BTF, depth: Int = 0) -> KconfigType? {
        guard depth < 32, let resolved = btf.resolved(id), let type = btf.type(resolved) else { return nil }
        switch type.body {
        case .int(let int):
            if int.encoding.contains(.bool) { return int.size == 1 ? .bool : nil }
            if int.size == 1 { return .character }
            guard int.size >= 1, int.size <= 8, int.size & (int.size - 1) == 0 else { return nil }
            return .integer(signed: int.encoding.contains(.signed))
        case .enum(let values):
            return values.size == 4 && btf.name(of: resolved) == "libbpf_tristate" ? .tristate : nil
        case .enum64:
            return btf.name(of: resolved) == "libbpf_tristate" ? .tristate : nil
        case .array(let array):
            guard array.count > 0, kconfigType(of: array.elementType, in: btf, depth: depth + 1) == .character else { return nil }
            return .characterArray
        default:
            return nil
        }
    }
}
