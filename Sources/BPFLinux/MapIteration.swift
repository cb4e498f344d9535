#if os(Linux)
import BPFObject
import Glibc

extension Map {
    /// Walks a map's keys with BPF_MAP_GET_NEXT_KEY while programs or other threads may
    /// change it. When the current key disappears, the kernel starts again from the first
    /// key (as libbpf and cilium/ebpf accept); keys already returned are skipped, so each key
    /// comes at most once. A map that keeps changing under the walk ends it with an error
    /// after a bounded number of steps instead of looping forever.
    public struct KeyIterator {
        public let map: Map
        private var current: [UInt8]?
        private var seen: Set<[UInt8]> = []
        private var steps = 0
        private var finished = false
        /// Steps allowed before giving up: several walks over a full map.
        public let stepLimit: Int

        init(map: Map) {
            self.map = map
            stepLimit = 8 * max(map.maxEntries, 1) + 1024
        }

        /// The next key not returned before, or nil at the end.
        public mutating func next() throws(BPFError) -> [UInt8]? {
            guard !finished else { return nil }
            while true {
                steps += 1
                if steps > stepLimit {
                    finished = true
                    throw BPFError(operation: "BPF_MAP_GET_NEXT_KEY", errno: EAGAIN, subject: map.name,
                                   detail: "the map kept changing during iteration; gave up after \(stepLimit) steps")
                }
                guard let key = try map.nextKey(after: current) else {
                    finished = true
                    return nil
                }
                current = key
                if seen.insert(key).inserted { return key }
            }
        }
    }

    /// An iterator over the keys; see `KeyIterator`.
    public func makeKeyIterator() -> KeyIterator { KeyIterator(map: self) }

    /// Every key, each once, as the iteration found them.
    public func keys() throws(BPFError) -> [[UInt8]] {
        var iterator = makeKeyIterator()
        var keys: [[UInt8]] = []
        while let key = try iterator.next() { keys.append(key) }
        return keys
    }

    /// Every key with its value; keys deleted between finding and reading them are left out.
    /// Per-CPU values come in the kernel's layout (`valueBufferSize` bytes).
    public func entries() throws(BPFError) -> [(key: [UInt8], value: [UInt8])] {
        var iterator = makeKeyIterator()
        var entries: [(key: [UInt8], value: [UInt8])] = []
        while let key = try iterator.next() {
            if let value = try lookup(key: key) { entries.append((key, value)) }
        }
        return entries
    }
}
#endif
