/// The helpers that call the program back: bpf_loop (181) and bpf_for_each_map_elem (164),
/// with the kernel's checks, order and counts (kernel/bpf/bpf_iter.c, arraymap.c, hashtab.c).
/// The callback runs in a frame of its own inside the calling run (`HelperCall.callFunction`);
/// a non-zero return stops the loop or the walk.
extension KernelHelpers {
    /// BPF_MAX_LOOPS: the most iterations bpf_loop runs.
    static let maximumLoops: UInt32 = 1 << 23

    /// bpf_loop(nr_loops, callback_fn, callback_ctx, flags): callback(i, ctx) for i from 0;
    /// the iterations run, the one that stopped the loop included. With flags 0 the kernel's
    /// verifier inlines the call (inline_bpf_loop), and that code is what runs: it checks all
    /// 64 bits of nr_loops and sets -E2BIG with a 32-bit move (0xfffffff9); the helper itself,
    /// which refuses other flags with -EINVAL, takes nr_loops as a u32.
    static let loop = Helper(id: 181, name: "loop") { call throws(VMError) in
        guard call.r4 == 0 else { return Errno.invalid }
        guard call.r1 <= UInt64(maximumLoops) else { return UInt64(UInt32(bitPattern: -LinuxErrno.tooBig)) }
        let count = UInt32(call.r1)
        var index: UInt32 = 0
        while index < count {
            let stop = try call.callFunction(call.r2, UInt64(index), call.r3)
            index += 1
            if stop != 0 { break }
        }
        return UInt64(index)
    }

    /// bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags): callback(map, key,
    /// value, ctx) for each element; the elements visited, the one that stopped the walk
    /// included. Arrays pass the index in `keys`' slot for the callback's frame; per-CPU maps
    /// the value of the program's CPU.
    static func forEachMapElement(_ table: MapTable, processor: Int, keys: CallbackKeys) -> Helper {
        Helper(id: 164, name: "for_each_map_elem") { call throws(VMError) in
            let map = table.maps[try table.argumentIndex(call)]
            guard call.r4 == 0 else { return Errno.invalid }
            var visited: UInt64 = 0
            if let array = map as? ArrayMap {
                let key = keys.slot(forCallbackDepth: call.stack.count / Interpreter.stackSize)
                for index in 0..<array.maxEntries {
                    key.storeBytes(of: UInt32(index), as: UInt32.self)
                    let value = array.programValue(at: index, cpu: processor)
                    visited += 1
                    if try call.callFunction(call.r2, call.r1, address(key), address(value), call.r3) != 0 { break }
                }
            } else if let hash = map as? HashMap {
                var position = hash.firstWalkPosition()
                while let current = position {
                    let (key, value) = hash.walkElement(current, cpu: processor)
                    visited += 1
                    if try call.callFunction(call.r2, call.r1, address(key), address(value), call.r3) != 0 { break }
                    position = hash.walkPosition(after: current)
                }
            } else {
                throw call.failure("map \(map.name) is a \(map.type) map; for_each_map_elem walks array and hash maps")
            }
            return visited
        }
    }

    private static func address(_ pointer: UnsafeMutableRawPointer) -> UInt64 { UInt64(UInt(bitPattern: pointer)) }
}

/// Where for_each_map_elem puts an array index for the callback to read through its key
/// pointer: one read-only slot per call frame, so that a walk inside a callback does not
/// overwrite the key of the walk around it. Owned by one loaded program, like its stack.
final class CallbackKeys: @unchecked Sendable {
    private let memory: UnsafeMutableRawPointer
    private static let slotSize = 8

    init() {
        let bytes = Self.slotSize * Interpreter.maxCallDepth
        memory = .allocate(byteCount: bytes, alignment: 8)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    }

    deinit { memory.deallocate() }

    /// What programs may read: every slot.
    var region: MemoryRegion {
        MemoryRegion(name: "for_each keys", start: UInt64(UInt(bitPattern: memory)),
                     count: Self.slotSize * Interpreter.maxCallDepth, isWritable: false)
    }

    func slot(forCallbackDepth depth: Int) -> UnsafeMutableRawPointer {
        memory + Self.slotSize * min(max(depth, 0), Interpreter.maxCallDepth - 1)
    }
}

extension MapTable {
    /// Memory callbacks read besides the maps' values: the hash maps' keys.
    var callbackRegions: [MemoryRegion] {
        maps.compactMap { ($0 as? HashMap)?.keyRegion }
    }
}
