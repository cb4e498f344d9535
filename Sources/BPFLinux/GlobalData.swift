#if os(Linux)
import BPFObject
import Glibc

/// An object's global variables in one global-data map (`.data`, `.bss`, `.rodata`,
/// `.data.*`...), read and written by name from Swift. Memory-mapped maps (those libbpf
/// and SwiftBPF create with BPF_F_MMAPABLE) are accessed in place; others through the
/// map's single element. Sizes are checked against the variables' own.
public final class GlobalData {
    public let map: Map
    /// The variables of this map, by offset.
    public let variables: [GlobalVariable]
    private var memory: MappedMemory?

    /// A view of `map` holding `variables` (those of `ObjectFile.globals` with its index).
    public init(map: Map, variables: [GlobalVariable]) throws(BPFError) {
        guard map.type == .array, map.keySize == 4, map.maxEntries == 1 else {
            throw BPFError(operation: "GlobalData", errno: EINVAL, subject: map.name,
                           detail: "global data lives in a one-element array with 4-byte keys; this is \(map)")
        }
        for variable in variables where variable.offset < 0 || variable.size < 0 || variable.offset + variable.size > map.valueSize {
            throw BPFError(operation: "GlobalData", errno: EINVAL, subject: map.name,
                           detail: "variable '\(variable.name)' (\(variable.size) bytes at \(variable.offset)) lies outside the \(map.valueSize)-byte value")
        }
        self.map = map
        self.variables = variables
        if map.flags.contains(.mmapable) {
            let frozen = map.isFrozen
            // The kernel maps a map that is read-only to programs only read-only, so until
            // `.rodata` is frozen it is written through the map's element.
            if frozen || map.flags.contains(.readOnly) {
                memory = try map.memoryMap(writable: false)
            } else if !map.flags.contains(.readOnlyProgram) {
                memory = try map.memoryMap(writable: true)
            }
        }
    }

    /// The view of map `index` of `object` (its `ObjectFile.maps` position), created as `map`.
    public convenience init(map: Map, index: Int, of object: ObjectFile) throws(BPFError) {
        try self.init(map: map, variables: object.globals.filter { $0.mapIndex == index })
    }

    /// Removes the memory mapping now (it also goes on deinit).
    public func close() {
        memory?.close()
        memory = nil
    }

    public func variable(named name: String) throws(BPFError) -> GlobalVariable {
        guard let variable = variables.first(where: { $0.name == name }) else {
            throw BPFError(operation: "GlobalData", errno: ENOENT, subject: map.name,
                           detail: "no variable '\(name)'; there are: \(variables.map(\.name).joined(separator: ", "))")
        }
        return variable
    }

    /// The bytes of the whole section as the map holds them now.
    public func contents() throws(BPFError) -> [UInt8] {
        if let memory { return try memory.bytes(at: 0, count: map.valueSize) }
        return try map.lookup(key: [0, 0, 0, 0]) ?? []
    }

    public func bytes(of name: String) throws(BPFError) -> [UInt8] {
        let variable = try variable(named: name)
        if let memory { return try memory.bytes(at: variable.offset, count: variable.size) }
        let all = try contents()
        guard variable.offset + variable.size <= all.count else { throw shortValue(all.count) }
        return Array(all[variable.offset..<variable.offset + variable.size])
    }

    public func setBytes(_ bytes: [UInt8], of name: String) throws(BPFError) {
        let variable = try variable(named: name)
        guard bytes.count == variable.size else {
            throw BPFError(operation: "GlobalData", errno: EINVAL, subject: map.name,
                           detail: "'\(name)' is \(variable.size) bytes; got \(bytes.count)")
        }
        if let memory {
            try memory.write(bytes, at: variable.offset)
            return
        }
        if map.flags.contains(.mmapable) && map.isFrozen {
            throw BPFError(operation: "GlobalData", errno: EPERM, subject: map.name, detail: "the map is frozen")
        }
        var all = try contents()
        guard variable.offset + variable.size <= all.count else { throw shortValue(all.count) }
        all.replaceSubrange(variable.offset..<variable.offset + variable.size, with: bytes)
        try map.update(key: [0, 0, 0, 0], value: all)
    }

    private func shortValue(_ count: Int) -> BPFError {
        BPFError(operation: "BPF_MAP_LOOKUP_ELEM", errno: ENOENT, subject: map.name,
                 detail: "the map's value is \(count) bytes, not the \(map.valueSize) its variables need")
    }

    /// The variable `name` as a `T` of the variable's size.
    public func value<T: BitwiseCopyable>(of name: String, as type: T.Type = T.self) throws(BPFError) -> T {
        let bytes = try bytes(of: name)
        guard bytes.count == MemoryLayout<T>.size else {
            throw BPFError(operation: "GlobalData", errno: EINVAL, subject: map.name,
                           detail: "'\(name)' is \(bytes.count) bytes; \(T.self) is \(MemoryLayout<T>.size)")
        }
        return bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }

    public func set<T: BitwiseCopyable>(_ name: String, to value: T) throws(BPFError) {
        try setBytes(byteArray(of: value), of: name)
    }

    /// Freezes the map (what libbpf does to `.rodata` before loading programs, so that the
    /// verifier treats its values as constants); the view stays readable.
    public func freeze() throws(BPFError) {
        close()
        try map.freeze()
        if map.flags.contains(.mmapable) { memory = try map.memoryMap(writable: false) }
    }
}
#endif
