/// What the JIT needs to look a value up without going through the helper path, as the
/// kernel's verifier lets its JIT do (fixup_bpf_calls): an array lookup becomes a bounds
/// check and an address computation in the program itself (the array's map_gen_lookup), and
/// other lookups call the map's own lookup function directly (ops->map_lookup_elem).
///
/// A map handle (`MapTable.handle(of:)`) is the address of the map's descriptor: `stride`
/// bytes of 8-byte fields that generated code reads. Programs never reach it: it lies outside
/// every region they may access, and the verifier lets them only pass it to helpers.
enum MapLookupDescriptor {
    static let stride = 64
    // Field offsets.
    static let kind: Int32 = 0
    /// Arrays: the address of index 0's value (of the program's CPU, for per-CPU arrays).
    static let base: Int32 = 8
    static let maxEntries: Int32 = 16
    static let elementStride: Int32 = 24
    /// Direct lookups: a `Function`, the map unretained, and the program's CPU.
    static let function: Int32 = 32
    static let map: Int32 = 40
    static let cpu: Int32 = 48

    /// How a lookup in the map runs.
    enum Kind: UInt64 {
        /// Through the helper path (`map_lookup_elem` in Swift).
        case helper = 0
        /// Inline in the generated code.
        case array = 1
        /// A direct call of `function(map, key, cpu)`.
        case direct = 2
    }

    typealias Function = @convention(c) (UnsafeRawPointer, UnsafeRawPointer, Int) -> UnsafeMutableRawPointer?

    /// The descriptors of one `MapTable`, for the compiler: a handle lies in
    /// `start ..< start + count * stride` at a multiple of `stride`.
    struct Table {
        var start: UInt64
        var count: Int
    }
}

// The lookup functions generated code calls: no helper frame, no reference counting (the map
// table keeps the maps alive for as long as a program can run).

let hashLookup: MapLookupDescriptor.Function = { map, key, cpu in
    Unmanaged<HashMap>.fromOpaque(map)._withUnsafeGuaranteedRef { $0.programLookup(key: key, cpu: cpu) }
}

let lpmTrieLookup: MapLookupDescriptor.Function = { map, key, cpu in
    Unmanaged<LPMTrieMap>.fromOpaque(map)._withUnsafeGuaranteedRef { $0.programLookup(key: key, cpu: cpu) }
}
