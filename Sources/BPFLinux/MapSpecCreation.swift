#if os(Linux)
import BPFObject
import Glibc

extension Map {
    /// Creates the map an object declares. Array- and hash-of-maps get their inner map
    /// from `spec.innerMap` (a template made for the call and closed after). With `btf`,
    /// the map gets the object's key and value types (needed for spin locks and timers; a
    /// kernel that refuses them gets the map without, as libbpf retries). Global-data maps
    /// get their initial contents; `.rodata` is left unfrozen so that constants can be set
    /// (through `GlobalData`) before it is frozen and programs are loaded.
    /// Types whose values are descriptors or kernel objects, not data BTF could describe:
    /// libbpf sends them without BTF, and so does SwiftBPF.
    static let typesWithoutBTF: Set<MapType> = [
        .perfEventArray, .cgroupArray, .stackTrace, .arrayOfMaps, .hashOfMaps, .deviceMap, .deviceMapHash, .cpuMap,
        .xdpSocketMap, .socketMap, .socketHash, .queue, .stack, .arena,
    ]

    public convenience init(spec: MapSpec, btf: LoadedBTF? = nil) throws(BPFError) {
        var inner: Map?
        if spec.type.holdsMaps {
            guard let innerSpec = spec.innerMap else {
                throw BPFError(operation: "BPF_MAP_CREATE", errno: EINVAL, subject: spec.name,
                               detail: "\(spec.type.kernelName) needs an inner map template (__array(values, ...))")
            }
            inner = try Map(spec: innerSpec)
        }
        defer { inner?.close() }
        var attributes = SystemCall.MapAttributes(
            type: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries,
            flags: spec.flags, name: spec.name, innerMapFD: inner?.fileDescriptor.rawValue, numaNode: spec.numaNode,
            mapExtra: spec.mapExtra)
        var fd: FileDescriptor
        if let btf, spec.keyTypeID != nil || spec.valueTypeID != nil, !Map.typesWithoutBTF.contains(spec.type) {
            attributes.btfFD = btf.fileDescriptor.rawValue
            attributes.btfKeyTypeID = spec.keyTypeID ?? 0
            attributes.btfValueTypeID = spec.valueTypeID ?? 0
            do { fd = try SystemCall.createMap(attributes) } catch where error.errno != EPERM {
                attributes.btfFD = nil
                attributes.btfKeyTypeID = 0
                attributes.btfValueTypeID = 0
                fd = try SystemCall.createMap(attributes)
            }
        } else {
            fd = try SystemCall.createMap(attributes)
        }
        try self.init(fileDescriptor: fd)
        if let initialValue = spec.initialValue, initialValue.contains(where: { $0 != 0 }) {
            try update(key: [0, 0, 0, 0], value: initialValue)
        }
    }

    /// libbpf's pinning by name (`__uint(pinning, LIBBPF_PIN_BY_NAME)`): the map pinned at
    /// `<directory>/<name>` when there is one and it matches the spec (type, sizes, entries,
    /// flags), else a new map pinned there. A pinned map that does not match is an error, as
    /// in libbpf, rather than silently replaced.
    public static func pinnedOrCreated(spec: MapSpec, directory: String = BPFFileSystem.defaultRoot,
                                       btf: LoadedBTF? = nil) throws(BPFError) -> Map {
        let path = directory + "/" + spec.name
        do throws(BPFError) {
            let existing = try Map(pinnedAt: path)
            let matches = existing.type == spec.type && existing.keySize == Int(spec.keySize)
                && existing.valueSize == Int(spec.valueSize) && existing.maxEntries == Int(spec.maxEntries)
                && existing.flags.rawValue == spec.flags
            guard matches else {
                existing.close()
                throw BPFError(operation: "BPF_OBJ_GET", errno: EINVAL, subject: path,
                               detail: "the map pinned here is \(existing), which does not match the declaration of '\(spec.name)'")
            }
            return existing
        } catch where error.errno == ENOENT && error.operation == "BPF_OBJ_GET" {
            let map = try Map(spec: spec, btf: btf)
            do { try map.pin(at: path) } catch {
                map.close()
                throw error
            }
            return map
        }
    }
}
#endif
