#if os(Linux)
import BPFObject
import Glibc

/// A whole object loaded into the kernel in one call, as libbpf's `bpf_object__load` does:
/// its maps created (global data with its contents, `.rodata` constants set and then
/// frozen, `.kconfig` filled from the kernel's configuration, pinned maps reused), its
/// programs CO-RE-relocated against the running kernel, linked to the maps and kernel
/// symbols and loaded, and the `.values` slots of program arrays and map-in-maps filled.
///
/// Named `ObjectCollection` rather than `Collection` so as not to shadow the standard
/// library's protocol for every module that imports BPFLinux.
///
/// Everything is released with the collection (or by `close()`); pins stay until removed.
public final class ObjectCollection {
    /// What to change from what the object says.
    public struct Options: Sendable {
        /// Initial values of global variables (`.rodata` constants above all), by variable
        /// name, written before the maps are created; sizes must match the variables'.
        public var constants: [String: [UInt8]]
        /// Where maps declared with `LIBBPF_PIN_BY_NAME` are looked for and pinned.
        public var pinDirectory: String
        /// The programs to load, overriding each program's autoload (`SEC("?...")`); nil
        /// loads those with autoload set.
        public var programs: Set<String>?
        /// Program types to use instead of the section's, by program name (for sections
        /// libbpf does not know).
        public var programTypes: [String: ProgramType]
        /// The verifier log level for every program (the log is kept in `verifierLog`).
        public var logLevel: UInt32
        /// The BTF CO-RE relocations are applied against; nil for the running kernel's.
        public var targetBTF: BTF?
        /// The configuration `.kconfig` externs read; nil for the running kernel's.
        public var kernelConfig: KernelConfig?

        public init(constants: [String: [UInt8]] = [:], pinDirectory: String = BPFFileSystem.defaultRoot,
                    programs: Set<String>? = nil, programTypes: [String: ProgramType] = [:], logLevel: UInt32 = 0,
                    targetBTF: BTF? = nil, kernelConfig: KernelConfig? = nil) {
            self.constants = constants
            self.pinDirectory = pinDirectory
            self.programs = programs
            self.programTypes = programTypes
            self.logLevel = logLevel
            self.targetBTF = targetBTF
            self.kernelConfig = kernelConfig
        }

        /// Sets the global variable `name` to `value`'s bytes.
        public mutating func setConstant<T: BitwiseCopyable>(_ name: String, to value: T) {
            constants[name] = withUnsafeBytes(of: value) { Array($0) }
        }
    }

    public let object: ObjectFile
    /// The object's BTF in the kernel; nil when the object has none or the kernel refused it
    /// (programs then load without function and line info, as libbpf falls back).
    public let btf: LoadedBTF?
    /// Loaded programs by name, in the object's order in `programNames`.
    public let programs: [String: KernelProgram]
    public let programNames: [String]
    /// Maps by kernel name (`MapSpec.name`), in the object's order in `mapNames`.
    public let maps: [String: Map]
    public let mapNames: [String]
    /// Pin paths of the maps that were pinned by name: found there, or pinned there now.
    public let pinnedMaps: [String: String]
    /// Maps that were already pinned and reused as they were.
    public let reusedMaps: Set<String>
    private var views: [String: GlobalData] = [:]

    /// Loads `object` (see the type's description). A failure names the map or program and,
    /// for programs, includes the verifier's log; whatever was made before it is released
    /// and pins made by this call are removed.
    public init(object: ObjectFile, options: Options = Options()) throws(BPFError) {
        let loaded = try CollectionLoader(object: object, options: options).load()
        self.object = object
        btf = loaded.btf
        programs = loaded.programs
        programNames = loaded.programNames
        maps = loaded.maps
        mapNames = loaded.mapNames
        pinnedMaps = loaded.pinnedMaps
        reusedMaps = loaded.reusedMaps
    }

    /// The program `name`, or an error listing the loaded ones.
    public func program(_ name: String) throws(BPFError) -> KernelProgram {
        guard let program = programs[name] else {
            throw BPFError(operation: "ObjectCollection", errno: ENOENT, subject: name,
                           detail: "no loaded program '\(name)'; loaded: \(programNames.joined(separator: ", "))")
        }
        return program
    }

    /// The map with kernel name or section name `name` (".bss", "counts", "obj.rodata").
    public func map(_ name: String) throws(BPFError) -> Map {
        if let map = maps[name] { return map }
        if let spec = object.maps.first(where: { $0.sectionName == name && $0.origin != .btf && $0.origin != .legacy }),
           let map = maps[spec.name] {
            return map
        }
        throw BPFError(operation: "ObjectCollection", errno: ENOENT, subject: name,
                       detail: "no map '\(name)'; maps: \(mapNames.joined(separator: ", "))")
    }

    /// The global variables of one data section (".data", ".bss", ".rodata", ".data.name"),
    /// read and written by name; memory-mapped where the map allows. Kept until `close()`.
    public func globalData(_ section: String) throws(BPFError) -> GlobalData {
        if let view = views[section] { return view }
        guard let index = object.maps.firstIndex(where: { $0.origin == .globalData && ($0.sectionName == section || $0.name == section) }),
              let map = maps[object.maps[index].name] else {
            let sections = object.maps.filter { $0.origin == .globalData }.map(\.sectionName)
            throw BPFError(operation: "ObjectCollection", errno: ENOENT, subject: section,
                           detail: "no global-data section '\(section)'; the object has: \(sections.joined(separator: ", "))")
        }
        let view = try GlobalData(map: map, index: index, of: object)
        views[section] = view
        return view
    }

    /// The name a map or program gets in bpffs: libbpf's, with '.' (which bpffs refuses)
    /// turned into '_'.
    public static func pinName(_ name: String) -> String {
        String(name.map { $0 == "." ? "_" : $0 })
    }

    /// Pins every program and every map not pinned by name yet under `directory` (created
    /// in bpffs, which is mounted at /sys/fs/bpf if needed), as `bpf_object__pin` does:
    /// `<directory>/<name>`. Returns the paths pinned; on failure the pins made are removed.
    @discardableResult
    public func pin(directory: String) throws(BPFError) -> [String] {
        if directory.hasPrefix(BPFFileSystem.defaultRoot) { try BPFFileSystem.mountIfNeeded() }
        try BPFFileSystem.createDirectories(directory)
        var made: [String] = []
        func add(_ fd: FileDescriptor, _ name: String) throws(BPFError) {
            let path = directory + "/" + Self.pinName(name)
            do { try BPFFileSystem.pin(fd: fd.rawValue, at: path) } catch {
                for path in made { try? BPFFileSystem.unpin(path) }
                throw error
            }
            made.append(path)
        }
        for name in mapNames where pinnedMaps[name] == nil {
            if let map = maps[name] { try add(map.fileDescriptor, name) }
        }
        for name in programNames {
            if let program = programs[name] { try add(program.fileDescriptor, name) }
        }
        return made
    }

    /// Closes every program, map, BTF and memory mapping now.
    public func close() {
        for view in views.values { view.close() }
        views = [:]
        for program in programs.values { program.close() }
        for map in maps.values { map.close() }
        btf?.close()
    }

    deinit { close() }
}

extension ObjectFile {
    /// Loads the whole object into the kernel (see `ObjectCollection`).
    public func load(options: ObjectCollection.Options = ObjectCollection.Options()) throws(BPFError) -> ObjectCollection {
        try ObjectCollection(object: self, options: options)
    }
}
#endif
