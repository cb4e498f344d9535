#if os(Linux)
import BPFInstructions
import BPFObject
import Glibc

/// The steps of `ObjectCollection`'s load, in libbpf's order: BTF, externs, maps (with
/// pinning, contents, freezing, map-in-map slots), programs, program-array slots.
struct CollectionLoader {
    let object: ObjectFile
    let options: ObjectCollection.Options

    struct Loaded {
        var btf: LoadedBTF?
        var programs: [String: KernelProgram] = [:]
        var programNames: [String] = []
        var maps: [String: Map] = [:]
        var mapNames: [String] = []
        var pinnedMaps: [String: String] = [:]
        var reusedMaps: Set<String> = []
    }

    /// Pins this load made, removed if a later step fails.
    final class NewPins {
        var paths: [String] = []
    }

    func load() throws(BPFError) -> Loaded {
        var loaded = Loaded()
        let newPins = NewPins()
        let symbols = KernelSymbols()
        defer { symbols.close() }
        do throws(BPFError) {
            if object.btf != nil, object.btf?.byteOrder == .host {
                // As libbpf: an object whose BTF the kernel refuses still loads, without it.
                loaded.btf = try? LoadedBTF(bytes: ExternBTFFixup.fixed(object))
            }
            let kconfig = try kconfigContents()
            let mapList = try createMaps(kconfig: kconfig, btf: loaded.btf, into: &loaded, newPins: newPins)
            try fillSlots(maps: mapList, programs: [:], only: .map)
            var targetBTF = options.targetBTF
            for spec in object.programs where options.programs?.contains(spec.name) ?? spec.autoload {
                guard loaded.programs[spec.name] == nil else { continue }
                if targetBTF == nil && !spec.coreRelocations.isEmpty { targetBTF = try KernelBTF.vmlinux() }
                let program = try loadProgram(spec, maps: mapList, btf: loaded.btf, targetBTF: targetBTF, symbols: symbols)
                loaded.programs[spec.name] = program
                loaded.programNames.append(spec.name)
            }
            if let requested = options.programs {
                for name in requested.sorted() where loaded.programs[name] == nil {
                    throw BPFError(operation: "ObjectCollection", errno: ENOENT, subject: name,
                                   detail: "the object has no program '\(name)'; it has: \(object.programs.map(\.name).joined(separator: ", "))")
                }
            }
            try fillSlots(maps: mapList, programs: loaded.programs, only: .program)
        } catch {
            for path in newPins.paths { try? BPFFileSystem.unpin(path) }
            for program in loaded.programs.values { program.close() }
            for map in loaded.maps.values { map.close() }
            loaded.btf?.close()
            throw error
        }
        return loaded
    }

    // MARK: Externs

    /// The `.kconfig` map's value: each extern's value from the kernel's configuration.
    func kconfigContents() throws(BPFError) -> [UInt8]? {
        guard let spec = object.maps.first(where: { $0.origin == .kconfig }) else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(spec.valueSize))
        var config = options.kernelConfig
        var configProblem: BPFError?
        for external in object.externs {
            guard case .kconfig(let offset, let size, let type) = external.kind else { continue }
            var value: [UInt8]?
            switch external.name {
            case "LINUX_KERNEL_VERSION":
                guard let code = KernelRelease.current.versionCode else {
                    throw BPFError(operation: "resolve __kconfig", errno: EINVAL, subject: external.name,
                                   detail: "uname's release '\(KernelRelease.current.release)' has no version number")
                }
                value = (0..<size).map { UInt8(truncatingIfNeeded: $0 < 4 ? code >> UInt32($0 * 8) : 0) }
            case "LINUX_HAS_BPF_COOKIE", "LINUX_HAS_SYSCALL_WRAPPER":
                value = [1] + [UInt8](repeating: 0, count: max(0, size - 1))
            default:
                if config == nil && configProblem == nil {
                    do { config = try KernelConfig.running() } catch { configProblem = error }
                }
                if let config {
                    value = try config.value(for: external.name, type: type, size: size)
                }
                if value == nil && !external.isWeak {
                    if let configProblem {
                        var error = configProblem
                        error.subject = external.name
                        error.detail = "extern \(external.name) __kconfig needs the kernel configuration: " + (configProblem.detail ?? "")
                        throw error
                    }
                    throw BPFError(operation: "resolve __kconfig", errno: ENOENT, subject: external.name,
                                   detail: "\(external.name) is not set in \(config?.source ?? "the kernel configuration"); declare it __weak to read 0")
                }
            }
            guard let value, offset >= 0, offset + value.count <= bytes.count else { continue }
            bytes.replaceSubrange(offset..<offset + value.count, with: value)
        }
        return bytes
    }

    // MARK: Maps

    func createMaps(kconfig: [UInt8]?, btf: LoadedBTF?, into loaded: inout Loaded, newPins: NewPins) throws(BPFError) -> [Map?] {
        var specs = object.maps
        for (name, bytes) in options.constants {
            guard let variable = object.global(named: name) else {
                throw BPFError(operation: "ObjectCollection", errno: ENOENT, subject: name,
                               detail: "the object has no global variable '\(name)'; it has: \(object.globals.map(\.name).joined(separator: ", "))")
            }
            guard bytes.count == variable.size else {
                throw BPFError(operation: "ObjectCollection", errno: EINVAL, subject: name,
                               detail: "'\(name)' is \(variable.size) bytes; the value given is \(bytes.count)")
            }
            guard specs.indices.contains(variable.mapIndex), var initial = specs[variable.mapIndex].initialValue,
                  variable.offset + variable.size <= initial.count else { continue }
            initial.replaceSubrange(variable.offset..<variable.offset + variable.size, with: bytes)
            specs[variable.mapIndex].initialValue = initial
        }
        var maps: [Map?] = []
        for var spec in specs {
            guard spec.origin != .inner else {
                maps.append(nil)
                continue
            }
            if spec.origin == .kconfig {
                spec.initialValue = kconfig
                spec.valueTypeID = nil   // its DATASEC was emptied for the kernel
            }
            let map: Map
            do {
                if spec.pinning == .byName {
                    let path = options.pinDirectory + "/" + ObjectCollection.pinName(spec.name)
                    if let existing = try pinnedMap(at: path, matching: spec) {
                        map = existing
                        loaded.reusedMaps.insert(spec.name)
                    } else {
                        map = try Map(spec: spec, btf: btf)
                        try map.pin(at: path)
                        newPins.paths.append(path)
                    }
                    loaded.pinnedMaps[spec.name] = path
                } else {
                    map = try Map(spec: spec, btf: btf)
                }
            } catch {
                var error = error
                if error.subject == nil || error.subject == "" { error.subject = spec.name }
                if error.detail == nil { error.detail = "creating map '\(spec.name)': " + (error.likelyCause ?? "") }
                throw error
            }
            loaded.maps[spec.name] = map
            loaded.mapNames.append(spec.name)
            maps.append(map)
            let readOnly = spec.flags & MapSpec.readOnlyProgramFlag != 0
            if readOnly && (spec.origin == .globalData || spec.origin == .kconfig) && !loaded.reusedMaps.contains(spec.name) {
                try map.freeze()
            }
        }
        return maps
    }

    /// The map pinned at `path` if it matches `spec`; nil when nothing is pinned there; an
    /// error saying which attribute differs otherwise.
    func pinnedMap(at path: String, matching spec: MapSpec) throws(BPFError) -> Map? {
        let existing: Map
        do { existing = try Map(pinnedAt: path) } catch where error.errno == ENOENT { return nil }
        var differences: [String] = []
        if existing.type != spec.type { differences.append("type \(existing.type.kernelName) ≠ \(spec.type.kernelName)") }
        if existing.keySize != Int(spec.keySize) { differences.append("key size \(existing.keySize) ≠ \(spec.keySize)") }
        if existing.valueSize != Int(spec.valueSize) { differences.append("value size \(existing.valueSize) ≠ \(spec.valueSize)") }
        if existing.maxEntries != Int(spec.maxEntries) { differences.append("max entries \(existing.maxEntries) ≠ \(spec.maxEntries)") }
        if existing.flags.rawValue != spec.flags {
            differences.append("flags 0x\(String(existing.flags.rawValue, radix: 16)) ≠ 0x\(String(spec.flags, radix: 16))")
        }
        guard differences.isEmpty else {
            existing.close()
            throw BPFError(operation: "BPF_OBJ_GET", errno: EINVAL, subject: spec.name,
                           detail: "the map pinned at \(path) does not match the declaration of '\(spec.name)': \(differences.joined(separator: ", ")) (pinned ≠ declared)")
        }
        return existing
    }

    enum SlotKind { case map, program }

    /// Writes the fds of `.values = { [i] = &target }` into the maps that declare them.
    func fillSlots(maps: [Map?], programs: [String: KernelProgram], only kind: SlotKind) throws(BPFError) {
        for (index, spec) in object.maps.enumerated() where !spec.initialSlots.isEmpty {
            guard index < maps.count, let map = maps[index] else { continue }
            for (slot, target) in spec.initialSlots.sorted(by: { $0.key < $1.key }) {
                let fd: Int32
                switch (target, kind) {
                case (.map(let name), .map):
                    guard let targetIndex = object.maps.firstIndex(where: { $0.name == name }), targetIndex < maps.count,
                          let inner = maps[targetIndex] else {
                        throw BPFError(operation: "ObjectCollection", errno: ENOENT, subject: spec.name,
                                       detail: "slot \(slot) refers to map '\(name)', which was not created")
                    }
                    fd = inner.fileDescriptor.rawValue
                case (.program(let name), .program):
                    // A program not loaded (autoload off) leaves its slot empty, as in libbpf.
                    guard let program = programs[name] else { continue }
                    fd = program.fileDescriptor.rawValue
                default:
                    continue
                }
                do {
                    try map.update(key: Self.littleEndian(UInt32(truncatingIfNeeded: slot)), value: Self.littleEndian(UInt32(bitPattern: fd)))
                } catch {
                    var error = error
                    error.detail = "filling slot \(slot) of '\(spec.name)': " + (error.detail ?? error.likelyCause ?? "")
                    throw error
                }
            }
        }
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 24)]
    }

    // MARK: Programs

    func loadProgram(_ original: ProgramSpec, maps: [Map?], btf: LoadedBTF?, targetBTF: BTF?,
                     symbols: KernelSymbols) throws(BPFError) -> KernelProgram {
        var spec = original
        if let type = options.programTypes[spec.name] { spec.type = type }
        if !spec.coreRelocations.isEmpty, let localBTF = object.btf, let targetBTF {
            do {
                spec.instructions = try spec.relocatingCORE(localBTF: localBTF, targetBTF: targetBTF).instructions
            } catch {
                throw BPFError(operation: "CO-RE relocation", errno: EINVAL, subject: spec.name, detail: "\(error)")
            }
            spec.coreRelocations = []
        }
        var moduleBTFs: [FileDescriptor] = []
        let firstModuleIndex = max(1, maps.count)
        var kept: [ProgramRelocation] = []
        for relocation in spec.relocations {
            let index = relocation.instruction
            guard spec.instructions.indices.contains(index) else { continue }
            switch relocation.target {
            case .kernelFunction(let name):
                let external = object.externs.first { $0.name == name }
                guard let found = try symbols.find(name, function: true) else {
                    if external?.isWeak == true {
                        // libbpf's unresolved weak kfunc: a call the verifier removes as dead.
                        spec.instructions[index].imm = 0
                        spec.instructions[index].offset = 0
                        continue
                    }
                    throw BPFError(operation: "resolve kfunc", errno: ESRCH, subject: spec.name,
                                   detail: "instruction \(index) calls kfunc '\(name)', which is in neither vmlinux's BTF nor a loaded module's")
                }
                spec.instructions[index].imm = Int32(bitPattern: found.typeID)
                spec.instructions[index].offset = 0
                if let module = found.module {
                    let position = moduleBTFs.firstIndex { $0 === module } ?? {
                        moduleBTFs.append(module)
                        return moduleBTFs.count - 1
                    }()
                    spec.instructions[index].offset = Int16(truncatingIfNeeded: firstModuleIndex + position)
                }
            case .kernelVariable(let name):
                guard index + 1 < spec.instructions.count else { continue }
                let external = object.externs.first { $0.name == name }
                let typed: Bool
                if case .kernelVariable(let isTyped)? = external?.kind { typed = isTyped } else { typed = true }
                if typed {
                    guard let found = try symbols.find(name, function: false) else {
                        if external?.isWeak == true {
                            spec.instructions[index].src = 0
                            spec.instructions[index].imm = 0
                            spec.instructions[index + 1].imm = 0
                            continue
                        }
                        throw BPFError(operation: "resolve __ksym", errno: ESRCH, subject: spec.name,
                                       detail: "instruction \(index) reads kernel variable '\(name)', which is in neither vmlinux's BTF nor a loaded module's")
                    }
                    spec.instructions[index].src = 3   // BPF_PSEUDO_BTF_ID
                    spec.instructions[index].imm = Int32(bitPattern: found.typeID)
                    spec.instructions[index + 1].imm = found.module?.rawValue ?? 0
                } else {
                    let address = try symbols.address(of: name)
                    guard address != nil || external?.isWeak == true else {
                        throw BPFError(operation: "resolve __ksym", errno: ESRCH, subject: spec.name,
                                       detail: "instruction \(index) takes the address of '\(name)', which /proc/kallsyms does not list")
                    }
                    spec.instructions[index].src = 0
                    spec.instructions[index].imm = Int32(truncatingIfNeeded: address ?? 0)
                    spec.instructions[index + 1].imm = Int32(truncatingIfNeeded: (address ?? 0) >> 32)
                }
            default:
                kept.append(relocation)
            }
        }
        spec.relocations = kept
        let loadOptions = KernelProgram.LoadOptions(logLevel: options.logLevel)
        var attributes = try KernelProgram.attributes(for: spec, maps: maps, btf: btf, options: loadOptions)
        if !moduleBTFs.isEmpty {
            while attributes.fdArray.count < firstModuleIndex { attributes.fdArray.append(-1) }
            attributes.fdArray += moduleBTFs.map(\.rawValue)
        }
        do {
            return try KernelProgram(attributes, logSize: loadOptions.logSize)
        } catch {
            var error = error
            error.subject = "program '\(spec.name)' (\(spec.sectionName))"
            throw error
        }
    }
}
#endif
