import BPFInstructions
import BPFObject
import BPFVerifier

/// A clang-built object loaded into the VM, as libbpf loads one into the kernel: its maps
/// made in user space (BTF-defined and legacy maps, `.data`, `.rodata`, `.bss` and `.kconfig`
/// as one-entry array maps holding their initial values), its programs verified for their
/// section's type and rewritten to run against those maps.
///
///     let object = try LoadedObject(bytes: objectBytes, name: "firewall")
///     let firewall = try object.program(named: "xdp_firewall")
///     let verdict = try firewall.run(packet: frame)      // XDP_PASS, XDP_DROP, ...
///     let counters = try object.contents(ofMap: "counters")
///
/// The maps are shared by every program of the object and safe under runs on several
/// threads; a `LoadedProgram` runs one packet at a time, so take one per thread.
public final class LoadedObject: Sendable {
    /// Makes the userspace map for a map of the object.
    public typealias MapFactory = @Sendable (MapSpec) throws(MapError) -> any UserspaceMap

    /// The VM's own maps (`makeUserspaceMap`), one CPU's worth of per-CPU values.
    public static let userspaceMap: MapFactory = { spec throws(MapError) in try makeUserspaceMap(spec: spec) }

    public let file: ObjectFile
    public let engine: EngineKind
    public let host: HostEnvironment
    let table: MapTable
    /// The address of the one value of each global-data map, by map index.
    let valueAddresses: [Int: UInt64]

    public convenience init(bytes: [UInt8], name: String = "", engine: EngineKind = .preferred,
                            host: HostEnvironment = HostEnvironment(), makeMap: MapFactory = LoadedObject.userspaceMap) throws(RuntimeError) {
        let file: ObjectFile
        do { file = try ObjectFile(parsing: bytes, name: name) } catch {
            throw RuntimeError(.invalidObject, "\(name.isEmpty ? "the object" : name): \(error)")
        }
        try self.init(file: file, engine: engine, host: host, makeMap: makeMap)
    }

    public init(file: ObjectFile, engine: EngineKind = .preferred, host: HostEnvironment = HostEnvironment(),
                makeMap: MapFactory = LoadedObject.userspaceMap) throws(RuntimeError) {
        self.file = file
        self.engine = engine
        self.host = host
        var maps: [any UserspaceMap] = []
        var addresses: [Int: UInt64] = [:]
        for (index, spec) in file.maps.enumerated() {
            let map: any UserspaceMap
            do {
                map = try makeMap(spec)   // with its initial value, for global data
            } catch {
                throw RuntimeError(.map, "map \(spec.name): \(error)")
            }
            // The object's BTF says where a value holds a spin lock, which map writes leave alone.
            if let offset = MapInfo(spec, btf: file.btf).spinLockOffset {
                // As the kernel's map_check_btf: EOPNOTSUPP for other map types.
                guard spec.type == .hash || spec.type == .array, let base = map as? UserspaceMapBase else {
                    throw RuntimeError(.map, "map \(spec.name): a \(spec.type.kernelName) map cannot hold a bpf_spin_lock in its values; hash and array maps can")
                }
                base.holdSpinLock(at: offset)
            }
            if spec.origin == .globalData || spec.origin == .kconfig {
                let zero: UInt32 = 0
                addresses[index] = Self.lookupAddress(map, key: zero)
            }
            maps.append(map)
        }
        table = MapTable(maps, processor: host.processor)
        valueAddresses = addresses
        // Program arrays' `.values`: the slots name programs, by id here.
        for (index, spec) in file.maps.enumerated() {
            guard let programs = maps[index] as? ProgramArrayMap else { continue }
            for (slot, target) in spec.initialSlots {
                guard case .program(let name) = target, let id = programID(named: name) else { continue }
                do { try programs.setProgram(id, at: UInt32(slot)) } catch {
                    throw RuntimeError(.map, "map \(spec.name): slot \(slot): \(error)")
                }
            }
        }
    }

    /// The id that stands for program `name` in program arrays (`bpf_tail_call`'s slots), as
    /// a program fd does in the kernel's: its position among the object's programs, from 1.
    public func programID(named name: String) -> UInt32? {
        file.programs.firstIndex { $0.name == name }.map { UInt32($0 + 1) }
    }

    @inline(never)
    private static func lookupAddress(_ map: any UserspaceMap, key: UInt32) -> UInt64? {
        withUnsafeBytes(of: key) { bytes in
            map.programLookup(key: bytes.baseAddress.unsafelyUnwrapped, cpu: 0).map { UInt64(UInt(bitPattern: $0)) }
        }
    }

    // MARK: Programs

    /// The map descriptors the JIT may look values up through, unless the host replaced
    /// map_lookup_elem (helper 1) with its own.
    var mapLookups: MapLookupDescriptor.Table? {
        host.helpers.contains { $0.helper.id == 1 } ? nil : table.descriptors
    }

    /// The names of the programs the VM can run (XDP, TC and socket filter programs).
    public var programNames: [String] { file.programs.filter { PacketContextLayout($0.type) != nil }.map(\.name) }

    /// Verifies program `name` for its section's type, rewrites it for this object's maps and
    /// prepares it for the object's engine. Each call gives a new instance for one thread.
    public func program(named name: String) throws(RuntimeError) -> LoadedProgram {
        guard let spec = file.program(named: name) else { throw missingProgram(name) }
        let (layout, verified, program) = try prepare(spec)
        return try LoadedProgram(name: name, layout: layout, verified: verified, rewritten: program, object: self)
    }

    /// Verifies a program for its section's type and rewrites it for this object's maps.
    func prepare(_ spec: ProgramSpec) throws(RuntimeError) -> (PacketContextLayout, VerifiedProgram, Program) {
        let name = spec.name
        guard let layout = PacketContextLayout(spec.type) else {
            throw RuntimeError(.unsupported, "program \(name) is a \(spec.type.kernelName) program; the VM runs xdp, sched_cls, sched_act and socket_filter programs")
        }
        let verified: VerifiedProgram
        do {
            var options = Verifier.Options()
            options.helpers = KernelHelpers.prototypes(host)
            verified = try Verifier.verify(spec, maps: file.maps, btf: file.btf, options: options)
        } catch {
            throw RuntimeError(.rejected, "program \(name) was refused by the verifier: \(error)")
        }
        let program = try ProgramRewriter.rewrite(spec, verified: verified, layout: layout, maps: table,
                                                  valueAddresses: valueAddresses)
        return (layout, verified, program)
    }

    /// Outlined from the typed-throws caller because of its closures (Swift 6.3's release-mode miscompile).
    @inline(never)
    private func missingProgram(_ name: String) -> RuntimeError {
        let names = file.programs.map(\.name).joined(separator: ", ")
        return RuntimeError(.notFound, "the object has no program \(name)\(names.isEmpty ? "" : "; it has \(names)")")
    }

    // MARK: Maps and globals

    public var mapNames: [String] { file.maps.map(\.name) }

    /// The map the object declares as `name` (for global data, also the section: ".bss").
    public func map(named name: String) -> (any UserspaceMap)? {
        guard let index = mapIndex(name) else { return nil }
        return table.maps[index]
    }

    private func mapIndex(_ name: String) -> Int? {
        file.maps.firstIndex { $0.name == name } ?? file.maps.firstIndex { $0.sectionName == name && $0.origin == .globalData }
    }

    /// Every key and value of map `name`, in the map's key order (`nextKey`).
    public func contents(ofMap name: String) throws(RuntimeError) -> [(key: [UInt8], value: [UInt8])] {
        guard let map = map(named: name) else { throw RuntimeError(.notFound, "the object has no map \(name)") }
        var entries: [(key: [UInt8], value: [UInt8])] = []
        do {
            var key = try map.nextKey(after: nil)
            while let current = key {
                if let value = try map.lookup(key: current) { entries.append((current, value)) }
                key = try map.nextKey(after: current)
            }
        } catch {
            throw RuntimeError(.map, "map \(name): \(error)")
        }
        return entries
    }

    /// The records programs committed to ring buffer `name` since the last call, in order
    /// (discarded ones left out); they are consumed.
    public func records(ofRingBuffer name: String) throws(RuntimeError) -> [[UInt8]] {
        guard let map = map(named: name) else { throw RuntimeError(.notFound, "the object has no map \(name)") }
        guard let ring = map as? RingBufferMap else { throw RuntimeError(.map, "map \(name) is a \(map.type) map, not a ring buffer") }
        return ring.records()
    }

    /// The bytes of global variable `name`.
    public func global(named name: String) throws(RuntimeError) -> [UInt8] {
        let (variable, value) = try globalValue(name)
        return Array(value[variable.offset..<variable.offset + variable.size])
    }

    /// Sets global variable `name` to `bytes`, which must be exactly its size.
    public func setGlobal(named name: String, to bytes: [UInt8]) throws(RuntimeError) {
        var (variable, value) = try globalValue(name)
        guard bytes.count == variable.size else {
            throw RuntimeError(.map, "global \(name) is \(variable.size) bytes, not \(bytes.count)")
        }
        value.replaceSubrange(variable.offset..<variable.offset + variable.size, with: bytes)
        do { try table.maps[variable.mapIndex].update(key: [0, 0, 0, 0], value: value, flags: .any) } catch {
            throw RuntimeError(.map, "global \(name): \(error)")
        }
    }

    private func globalValue(_ name: String) throws(RuntimeError) -> (GlobalVariable, [UInt8]) {
        guard let variable = file.global(named: name), variable.mapIndex < table.maps.count else {
            throw RuntimeError(.notFound, "the object has no global variable \(name)")
        }
        let value: [UInt8]?
        do { value = try table.maps[variable.mapIndex].lookup(key: [0, 0, 0, 0]) } catch {
            throw RuntimeError(.map, "global \(name): \(error)")
        }
        guard let value, variable.offset + variable.size <= value.count else {
            throw RuntimeError(.map, "global \(name) lies outside its section's map")
        }
        return (variable, value)
    }
}
