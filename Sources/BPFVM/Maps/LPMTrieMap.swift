import BPFObject
import Synchronization

/// `BPF_MAP_TYPE_LPM_TRIE`: longest-prefix match over keys of a 4-byte prefix length (host
/// order) followed by `keySize - 4` bytes of data (network order, most significant bit first).
///
/// The trie is the kernel's: a binary trie with path compression, where intermediate nodes
/// (made where two prefixes part) have exactly two children and hold no value, and updates,
/// deletes, lookups and `nextKey` walk it as the kernel's do. That makes the nodes the same as
/// the kernel's for the same operations, and so the key order: postorder, more specific
/// prefixes before the prefixes that contain them. Nodes and values come from pools allocated at
/// creation (up to `2 * maxEntries - 1` nodes, `maxEntries` values); one lock guards the trie.
public final class LPMTrieMap: UserspaceMapBase, UserspaceMap, @unchecked Sendable {
    let dataSize: Int
    let maxPrefixLength: Int
    let valueStride: Int
    let values: MapMemory
    public let storage: [MemoryRegion]

    // Under `lock`:
    let lock = Mutex<Void>(())
    let nodeData: MapMemory
    let children: FixedArray<Int32>       // two per node, -1 for none
    let prefixLengths: FixedArray<UInt32>
    /// The node's value slot, or -1 for an intermediate node.
    let valueSlots: FixedArray<Int32>
    let freeNodes: FixedArray<Int32>
    let freeValues: FixedArray<Int32>
    var freeNodeCount: Int
    var freeValueCount: Int
    var root: Int32 = -1
    var entryCount = 0

    init(spec: MapSpec) {
        dataSize = Int(spec.keySize) - 4
        maxPrefixLength = dataSize * 8
        valueStride = perCPUStride(valueSize: Int(spec.valueSize))
        let entries = Int(spec.maxEntries)
        let nodes = 2 * entries
        values = MapMemory(count: valueStride * entries)
        storage = [values.region("\(spec.name) values", isWritable: spec.flags & MapCreationFlag.readOnlyProgram == 0)]
        nodeData = MapMemory(count: dataSize * nodes)
        children = FixedArray(count: 2 * nodes) { _ in -1 }
        prefixLengths = FixedArray(count: nodes) { _ in 0 }
        valueSlots = FixedArray(count: nodes) { _ in -1 }
        freeNodes = FixedArray(count: nodes) { Int32(nodes - 1 - $0) }
        freeValues = FixedArray(count: entries) { Int32(entries - 1 - $0) }
        freeNodeCount = nodes
        freeValueCount = entries
        super.init(spec)
    }

    static func bytesNeeded(_ spec: MapSpec) -> Int {
        let entries = Int(spec.maxEntries)
        return perCPUStride(valueSize: Int(spec.valueSize)) * entries + 2 * entries * (Int(spec.keySize) - 4 + 20)
    }

    // MARK: Programs

    public func programLookup(key: UnsafeRawPointer, cpu: Int) -> UnsafeMutableRawPointer? {
        let slot = lock.withLock { _ in longestMatch(key) }
        return slot >= 0 ? values.base + slot * valueStride : nil
    }

    public func programUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64, cpu: Int) -> Int64 {
        -Int64(update(key, value: value, flags: flags))
    }

    public func programDelete(key: UnsafeRawPointer) -> Int64 { -Int64(delete(key)) }

    // MARK: Host

    override func hostLookup(key: UnsafeRawPointer, into value: UnsafeMutableRawPointer) -> Int32 {
        lock.withLock { _ in
            let slot = longestMatch(key)
            guard slot >= 0 else { return LinuxErrno.noEntry }
            value.copyMemory(from: values.base + slot * valueStride, byteCount: valueSize)
            return 0
        }
    }

    override func hostUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64) -> Int32 {
        update(key, value: value, flags: flags)
    }

    override func hostDelete(key: UnsafeRawPointer) -> Int32 { delete(key) }

    override func hostNextKey(after key: UnsafeRawPointer?, into next: UnsafeMutableRawPointer) -> Int32 {
        lock.withLock { _ in nextKey(after: key, into: next) }
    }

    // MARK: The trie

    @inline(__always) func data(_ node: Int32) -> UnsafeMutableRawPointer { nodeData.base + Int(node) * dataSize }
    @inline(__always) func prefixLength(_ node: Int32) -> Int { Int(prefixLengths.pointer[Int(node)]) }
    @inline(__always) func child(_ node: Int32, _ side: Int) -> Int32 { children.pointer[2 * Int(node) + side] }
    @inline(__always) func isIntermediate(_ node: Int32) -> Bool { valueSlots.pointer[Int(node)] < 0 }

    /// A place that points to a node: the root (-1) or side `s` of node `n` (2n + s).
    @inline(__always) func target(of link: Int) -> Int32 { link < 0 ? root : children.pointer[link] }
    @inline(__always) func set(_ link: Int, to node: Int32) {
        if link < 0 { root = node } else { children.pointer[link] = node }
    }

    @inline(__always)
    static func bit(_ data: UnsafeRawPointer, _ index: Int) -> Int {
        Int(data.load(fromByteOffset: index / 8, as: UInt8.self) >> (7 - UInt8(index % 8))) & 1
    }

    /// How many leading bits of `node` and the key agree, up to the shorter prefix.
    func matchLength(_ node: Int32, _ key: UnsafeRawPointer) -> Int {
        let limit = min(prefixLength(node), Int(key.loadUnaligned(as: UInt32.self)))
        let nodeBytes = data(node)
        var bits = 0
        while bits < limit {
            let difference = nodeBytes.load(fromByteOffset: bits / 8, as: UInt8.self) ^ key.load(fromByteOffset: 4 + bits / 8, as: UInt8.self)
            if difference != 0 { return min(bits + difference.leadingZeroBitCount, limit) }
            bits += 8
        }
        return limit
    }

    /// The value slot of the longest stored prefix of the key, or -1 (trie_lookup_elem). A
    /// prefix length past the data's bits matches nothing.
    func longestMatch(_ key: UnsafeRawPointer) -> Int {
        if Int(key.loadUnaligned(as: UInt32.self)) > maxPrefixLength { return -1 }
        var found: Int32 = -1
        var node = root
        while node >= 0 {
            let match = matchLength(node, key)
            if match == maxPrefixLength {
                found = node
                break
            }
            if match < prefixLength(node) { break }
            if !isIntermediate(node) { found = node }
            node = child(node, LPMTrieMap.bit(key + 4, prefixLength(node)))
        }
        return found >= 0 ? Int(valueSlots.pointer[Int(found)]) : -1
    }

    func update(_ key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64) -> Int32 {
        if flags > MapUpdateFlags.exist.rawValue { return LinuxErrno.invalid }
        let keyLength = Int(key.loadUnaligned(as: UInt32.self))
        if keyLength > maxPrefixLength { return LinuxErrno.invalid }
        return lock.withLock { _ in
            var link = -1
            var node = root
            var match = 0
            while node >= 0 {
                match = matchLength(node, key)
                let length = prefixLength(node)
                if length != match || length == keyLength || length == maxPrefixLength { break }
                link = 2 * Int(node) + LPMTrieMap.bit(key + 4, length)
                node = target(of: link)
            }
            if node >= 0 && prefixLength(node) == match {
                // The same prefix: replace the value, or give an intermediate node one.
                if !isIntermediate(node) {
                    if flags == MapUpdateFlags.noExist.rawValue { return LinuxErrno.exists }
                } else {
                    let status = admitEntry(flags)
                    if status != 0 { return status }
                    valueSlots.pointer[Int(node)] = takeValue()
                }
                fill(node, key: key, length: keyLength, value: value)
                return 0
            }
            let status = admitEntry(flags)
            if status != 0 { return status }
            let fresh = takeNode()
            valueSlots.pointer[Int(fresh)] = takeValue()
            fill(fresh, key: key, length: keyLength, value: value)
            if node < 0 {
                set(link, to: fresh)
            } else if match == keyLength {
                // The new prefix contains the node: it goes above it.
                children.pointer[2 * Int(fresh) + LPMTrieMap.bit(data(node), match)] = node
                set(link, to: fresh)
            } else {
                // They part at bit `match`: an intermediate node holds both.
                let parting = takeNode()
                prefixLengths.pointer[Int(parting)] = UInt32(match)
                data(parting).copyMemory(from: data(node), byteCount: dataSize)
                let freshSide = LPMTrieMap.bit(key + 4, match)
                children.pointer[2 * Int(parting) + freshSide] = fresh
                children.pointer[2 * Int(parting) + 1 - freshSide] = node
                set(link, to: parting)
            }
            return 0
        }
    }

    /// Whether one more entry may come in (trie_check_add_elem): BPF_EXIST wants an existing
    /// one (ENOENT), and a full trie has no room (ENOSPC).
    func admitEntry(_ flags: UInt64) -> Int32 {
        if flags == MapUpdateFlags.exist.rawValue { return LinuxErrno.noEntry }
        if entryCount == maxEntries { return LinuxErrno.noSpace }
        entryCount += 1
        return 0
    }

    func fill(_ node: Int32, key: UnsafeRawPointer, length: Int, value: UnsafeRawPointer) {
        prefixLengths.pointer[Int(node)] = UInt32(length)
        data(node).copyMemory(from: key + 4, byteCount: dataSize)
        (values.base + Int(valueSlots.pointer[Int(node)]) * valueStride).copyMemory(from: value, byteCount: valueSize)
    }

    func delete(_ key: UnsafeRawPointer) -> Int32 {
        let keyLength = Int(key.loadUnaligned(as: UInt32.self))
        if keyLength > maxPrefixLength { return LinuxErrno.invalid }
        return lock.withLock { _ in
            var link = -1, parentLink = -1
            var parent: Int32 = -1
            var node = root
            var match = 0
            while node >= 0 {
                match = matchLength(node, key)
                let length = prefixLength(node)
                if length != match || length == keyLength { break }
                parent = node
                parentLink = link
                link = 2 * Int(node) + LPMTrieMap.bit(key + 4, length)
                node = target(of: link)
            }
            guard node >= 0, prefixLength(node) == keyLength, match == keyLength, !isIntermediate(node) else {
                return LinuxErrno.noEntry
            }
            entryCount -= 1
            let left = child(node, 0), right = child(node, 1)
            if left >= 0 && right >= 0 {
                // Still needed where its two children part.
                releaseValue(of: node)
                return 0
            }
            if parent >= 0 && isIntermediate(parent) && left < 0 && right < 0 {
                // The parent was only there to part this node from its sibling.
                set(parentLink, to: child(parent, 0) == node ? child(parent, 1) : child(parent, 0))
                releaseNode(parent)
                releaseNode(node)
                return 0
            }
            set(link, to: left >= 0 ? left : right)
            releaseNode(node)
            return 0
        }
    }

    /// trie_get_next_key: postorder; a missing key (or none) gives the leftmost entry.
    func nextKey(after key: UnsafeRawPointer?, into next: UnsafeMutableRawPointer) -> Int32 {
        guard root >= 0 else { return LinuxErrno.noEntry }
        var searchRoot = root
        findExact: if let key, Int(key.loadUnaligned(as: UInt32.self)) <= maxPrefixLength {
            let keyLength = Int(key.loadUnaligned(as: UInt32.self))
            var path: [Int32] = []
            var node = root
            var match = 0
            while node >= 0 {
                path.append(node)
                match = matchLength(node, key)
                if prefixLength(node) != match || prefixLength(node) == keyLength { break }
                node = child(node, LPMTrieMap.bit(key + 4, prefixLength(node)))
            }
            guard node >= 0, prefixLength(node) == keyLength, prefixLength(node) == match, !isIntermediate(node) else {
                break findExact
            }
            // The first node after it in postorder: the leftmost of a right sibling subtree,
            // else the nearest ancestor that holds an entry.
            var current = node
            var index = path.count - 1
            while index > 0 {
                let parent = path[index - 1]
                if child(parent, 0) == current && child(parent, 1) >= 0 {
                    searchRoot = child(parent, 1)
                    break findExact
                }
                if !isIntermediate(parent) {
                    copyKey(of: parent, into: next)
                    return 0
                }
                current = parent
                index -= 1
            }
            return LinuxErrno.noEntry
        }
        // Leftmost entry under `searchRoot` in postorder: down the left side where there is
        // one, the last entry passed is the answer.
        var found: Int32 = -1
        var node = searchRoot
        while node >= 0 {
            if isIntermediate(node) {
                node = child(node, 0)
            } else {
                found = node
                node = child(node, 0) >= 0 ? child(node, 0) : child(node, 1)
            }
        }
        copyKey(of: found, into: next)
        return 0
    }

    func copyKey(of node: Int32, into key: UnsafeMutableRawPointer) {
        key.storeBytes(of: prefixLengths.pointer[Int(node)], as: UInt32.self)
        (key + 4).copyMemory(from: data(node), byteCount: dataSize)
    }

    // MARK: Pools

    func takeNode() -> Int32 {
        freeNodeCount -= 1
        let node = freeNodes.pointer[freeNodeCount]
        children.pointer[2 * Int(node)] = -1
        children.pointer[2 * Int(node) + 1] = -1
        valueSlots.pointer[Int(node)] = -1
        return node
    }

    func takeValue() -> Int32 {
        freeValueCount -= 1
        return freeValues.pointer[freeValueCount]
    }

    func releaseValue(of node: Int32) {
        let slot = valueSlots.pointer[Int(node)]
        guard slot >= 0 else { return }
        freeValues.pointer[freeValueCount] = slot
        freeValueCount += 1
        valueSlots.pointer[Int(node)] = -1
    }

    func releaseNode(_ node: Int32) {
        releaseValue(of: node)
        freeNodes.pointer[freeNodeCount] = node
        freeNodeCount += 1
    }
}
