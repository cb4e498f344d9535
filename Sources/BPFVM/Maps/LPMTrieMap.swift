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
/// creation (up to `2 * maxEntries - 1` nodes, `maxEntries` values).
///
/// Writers take one lock. Programs' lookups take none, as the kernel's run under RCU: they
/// read the trie with relaxed atomic loads (plain loads on x86) and check a sequence count
/// that writers make odd while they change the trie; a lookup that saw it change walks again.
/// A lookup never reads freed memory (the pools live as long as the map), and a value it
/// returns stays one of this map's values for the rest of the run, possibly changed by a
/// concurrent update, as the kernel lets programs see a value being updated.
public final class LPMTrieMap: UserspaceMapBase, UserspaceMap, @unchecked Sendable {
    let dataSize: Int
    let maxPrefixLength: Int
    let valueStride: Int
    let values: MapMemory
    public let storage: [MemoryRegion]

    let lock = Mutex<Void>(())
    /// Even while the trie is still; odd while a writer changes it.
    let sequence = Atomic<UInt64>(0)
    // Written under `lock` in a write section; read by lookups without it.
    /// Each node's data as big-endian 64-bit words (zero past the data), so that a match
    /// compares 64 bits at a time, as the kernel's longest_prefix_match does.
    let nodeWords: FixedArray<Atomic<UInt64>>
    let dataWords: Int
    /// Both children of a node in one word (side 0 low, side 1 high; -1 for none), so that a
    /// lookup loads them before it knows the side, alongside the node's other words.
    let children: FixedArray<Atomic<UInt64>>
    /// A node's prefix length (low half) and value slot (high half; -1 for an intermediate
    /// node) in one word.
    let nodeMeta: FixedArray<Atomic<UInt64>>
    let rootNode = Atomic<Int32>(-1)
    // Under `lock` only:
    let freeNodes: FixedArray<Int32>
    let freeValues: FixedArray<Int32>
    var freeNodeCount: Int
    var freeValueCount: Int
    var entryCount = 0

    init(spec: MapSpec) {
        dataSize = Int(spec.keySize) - 4
        maxPrefixLength = dataSize * 8
        valueStride = perCPUStride(valueSize: Int(spec.valueSize))
        let entries = Int(spec.maxEntries)
        let nodes = 2 * entries
        values = MapMemory(count: valueStride * entries)
        storage = [values.region("\(spec.name) values", isWritable: spec.flags & MapCreationFlag.readOnlyProgram == 0)]
        dataWords = (Int(spec.keySize) - 4 + 7) / 8
        nodeWords = FixedArray(count: dataWords * nodes) { _ in Atomic(0) }
        children = FixedArray(count: nodes) { _ in Atomic(UInt64.max) }
        nodeMeta = FixedArray(count: nodes) { _ in Atomic(UInt64(UInt32.max) << 32) }
        freeNodes = FixedArray(count: nodes) { Int32(nodes - 1 - $0) }
        freeValues = FixedArray(count: entries) { Int32(entries - 1 - $0) }
        freeNodeCount = nodes
        freeValueCount = entries
        super.init(spec)
    }

    static func bytesNeeded(_ spec: MapSpec) -> Int {
        let entries = Int(spec.maxEntries)
        return perCPUStride(valueSize: Int(spec.valueSize)) * entries + 2 * entries * (perCPUStride(valueSize: Int(spec.keySize) - 4) + 20)
    }

    // MARK: Programs

    public func programLookup(key: UnsafeRawPointer, cpu: Int) -> UnsafeMutableRawPointer? {
        let slot = lockFreeMatch(key)
        return slot >= 0 ? values.base + slot * valueStride : nil
    }

    /// `longestMatch` without the lock: a walk that a writer overlapped walks again.
    func lockFreeMatch(_ key: UnsafeRawPointer) -> Int {
        while true {
            let before = sequence.load(ordering: .acquiring)
            if before & 1 == 0 {
                let slot = longestMatch(key)
                atomicMemoryFence(ordering: .acquiring)
                if sequence.load(ordering: .relaxed) == before { return slot }
            }
        }
    }

    /// Runs a change of the trie under the lock, with the sequence odd meanwhile.
    @inline(__always)
    func write<T>(_ change: () -> T) -> T {
        lock.withLock { _ in
            let start = sequence.load(ordering: .relaxed)
            sequence.store(start &+ 1, ordering: .relaxed)
            atomicMemoryFence(ordering: .releasing)
            defer { sequence.store(start &+ 2, ordering: .releasing) }
            return change()
        }
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

    // Relaxed atomic loads and stores: plain moves on x86, and no data race for the lookups
    // that read while a writer writes.
    @inline(__always) func nodeWord(_ node: Int32, _ index: Int) -> UInt64 {
        nodeWords.pointer[Int(node) * dataWords + index].load(ordering: .relaxed)
    }
    @inline(__always) func prefixLength(_ node: Int32) -> Int {
        Int(UInt32(truncatingIfNeeded: nodeMeta.pointer[Int(node)].load(ordering: .relaxed)))
    }
    @inline(__always) func valueSlot(_ node: Int32) -> Int32 {
        Int32(truncatingIfNeeded: nodeMeta.pointer[Int(node)].load(ordering: .relaxed) >> 32)
    }
    @inline(__always) func child(_ node: Int32, _ side: Int) -> Int32 {
        Int32(truncatingIfNeeded: children.pointer[Int(node)].load(ordering: .relaxed) >> UInt64(side * 32))
    }
    // Writers change one half of a word; only they write, under the lock, and lookups load
    // the whole word, so they see it before or after.
    @inline(__always) func setChild(_ node: Int32, _ side: Int, _ value: Int32) {
        setHalf(children.pointer + Int(node), high: side == 1, UInt32(bitPattern: value))
    }
    @inline(__always) func setPrefixLength(_ node: Int32, _ length: Int) {
        setHalf(nodeMeta.pointer + Int(node), high: false, UInt32(length))
    }
    @inline(__always) func setValueSlot(_ node: Int32, _ slot: Int32) {
        setHalf(nodeMeta.pointer + Int(node), high: true, UInt32(bitPattern: slot))
    }
    @inline(__always) private func setHalf(_ word: UnsafeMutablePointer<Atomic<UInt64>>, high: Bool, _ half: UInt32) {
        let old = word.pointee.load(ordering: .relaxed)
        let new = high ? old & 0xffff_ffff | UInt64(half) << 32 : old & ~0xffff_ffff | UInt64(half)
        word.pointee.store(new, ordering: .relaxed)
    }
    @inline(__always) func isIntermediate(_ node: Int32) -> Bool { valueSlot(node) < 0 }
    var root: Int32 { rootNode.load(ordering: .relaxed) }

    /// A place that points to a node: the root (-1) or side `s` of node `n` (2n + s).
    @inline(__always) func target(of link: Int) -> Int32 { link < 0 ? root : child(Int32(link >> 1), link & 1) }
    @inline(__always) func set(_ link: Int, to node: Int32) {
        if link < 0 { rootNode.store(node, ordering: .relaxed) } else { setChild(Int32(link >> 1), link & 1, node) }
    }

    @inline(__always)
    static func bit(_ data: UnsafeRawPointer, _ index: Int) -> Int {
        Int(data.load(fromByteOffset: index / 8, as: UInt8.self) >> (7 - UInt8(index % 8))) & 1
    }

    @inline(__always)
    func nodeBit(_ node: Int32, _ index: Int) -> Int { Int(nodeWord(node, index / 64) >> (63 - UInt64(index % 64))) & 1 }

    /// Word `index` of data bytes (a key's, after its prefix length), big-endian, zero past the end.
    @inline(__always)
    func dataWord(_ data: UnsafeRawPointer, _ index: Int) -> UInt64 {
        let offset = index * 8
        if offset + 8 <= dataSize { return UInt64(bigEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        if offset + 4 == dataSize { return UInt64(UInt32(bigEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) << 32 }
        var word: UInt64 = 0
        for byte in 0..<(dataSize - offset) {
            word |= UInt64(data.load(fromByteOffset: offset + byte, as: UInt8.self)) << (56 - 8 * UInt64(byte))
        }
        return word
    }

    func storeData(_ node: Int32, from bytes: UnsafeRawPointer) {
        for index in 0..<dataWords {
            nodeWords.pointer[Int(node) * dataWords + index].store(dataWord(bytes, index), ordering: .relaxed)
        }
    }

    /// How many leading bits of a node of prefix `length` and the key agree, up to the
    /// shorter prefix. The caller reads `length` once: a lookup may race a writer.
    @inline(__always)
    func matchLength(_ node: Int32, length: Int, _ key: UnsafeRawPointer) -> Int {
        let limit = min(length, Int(key.loadUnaligned(as: UInt32.self)))
        var bits = 0
        while bits < limit {
            let difference = nodeWord(node, bits / 64) ^ dataWord(key + 4, bits / 64)
            if difference != 0 { return min(bits + difference.leadingZeroBitCount, limit) }
            bits += 64
        }
        return limit
    }

    func matchLength(_ node: Int32, _ key: UnsafeRawPointer) -> Int { matchLength(node, length: prefixLength(node), key) }

    /// The value slot of the longest stored prefix of the key, or -1 (trie_lookup_elem). A
    /// prefix length past the data's bits matches nothing. Safe without the lock: each node's
    /// fields are read once, and a walk longer than a still trie can be ends (the caller sees
    /// the sequence changed).
    func longestMatch(_ key: UnsafeRawPointer) -> Int {
        let keyLength = Int(key.loadUnaligned(as: UInt32.self))
        if keyLength > maxPrefixLength { return -1 }
        if dataWords == 1 { return longestMatch(word: dataWord(key + 4, 0), keyLength: keyLength) }
        var found: Int32 = -1
        var node = root
        var depth = 0
        while node >= 0 && depth <= maxPrefixLength {
            depth += 1
            let length = prefixLength(node)
            let match = matchLength(node, length: length, key)
            let slot = valueSlot(node)
            if match == maxPrefixLength {
                found = slot
                break
            }
            if match < length { break }
            if slot >= 0 { found = slot }
            node = child(node, LPMTrieMap.bit(key + 4, length))
        }
        return Int(found)
    }

    /// `longestMatch` for keys of up to 8 data bytes (IPv4 addresses, ...): the key's data
    /// read once into a register, each node compared in one step. A node's prefix is shorter
    /// than 64 bits wherever the walk goes on, so bit `length` of the word is the next side.
    @inline(__always)
    private func longestMatch(word: UInt64, keyLength: Int) -> Int {
        var found: Int32 = -1
        var node = root
        var depth = 0
        while node >= 0 && depth <= maxPrefixLength {
            depth += 1
            // The node's three words, loaded at once.
            let meta = nodeMeta.pointer[Int(node)].load(ordering: .relaxed)
            let pair = children.pointer[Int(node)].load(ordering: .relaxed)
            let difference = nodeWords.pointer[Int(node)].load(ordering: .relaxed) ^ word
            let length = Int(UInt32(truncatingIfNeeded: meta))
            let slot = Int32(truncatingIfNeeded: meta >> 32)
            let match = min(difference.leadingZeroBitCount, length, keyLength)
            if match == maxPrefixLength {
                found = slot
                break
            }
            if match < length { break }
            if slot >= 0 { found = slot }
            let side = (word << UInt64(length & 63)) >> 63
            node = Int32(truncatingIfNeeded: pair >> (side << 5))
        }
        return Int(found)
    }

    func update(_ key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64) -> Int32 {
        if flags > MapUpdateFlags.exist.rawValue { return LinuxErrno.invalid }
        let keyLength = Int(key.loadUnaligned(as: UInt32.self))
        if keyLength > maxPrefixLength { return LinuxErrno.invalid }
        return write {
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
                    setValueSlot(node, takeValue())
                }
                fill(node, key: key, length: keyLength, value: value)
                return 0
            }
            let status = admitEntry(flags)
            if status != 0 { return status }
            let fresh = takeNode()
            setValueSlot(fresh, takeValue())
            fill(fresh, key: key, length: keyLength, value: value)
            if node < 0 {
                set(link, to: fresh)
            } else if match == keyLength {
                // The new prefix contains the node: it goes above it.
                setChild(fresh, nodeBit(node, match), node)
                set(link, to: fresh)
            } else {
                // They part at bit `match`: an intermediate node holds both.
                let parting = takeNode()
                setPrefixLength(parting, match)
                for index in 0..<dataWords {
                    nodeWords.pointer[Int(parting) * dataWords + index].store(nodeWord(node, index), ordering: .relaxed)
                }
                let freshSide = LPMTrieMap.bit(key + 4, match)
                setChild(parting, freshSide, fresh)
                setChild(parting, 1 - freshSide, node)
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
        setPrefixLength(node, length)
        storeData(node, from: key + 4)
        (values.base + Int(valueSlot(node)) * valueStride).copyMemory(from: value, byteCount: valueSize)
    }

    func delete(_ key: UnsafeRawPointer) -> Int32 {
        let keyLength = Int(key.loadUnaligned(as: UInt32.self))
        if keyLength > maxPrefixLength { return LinuxErrno.invalid }
        return write {
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
        key.storeBytes(of: UInt32(prefixLength(node)), as: UInt32.self)
        for index in 0..<dataSize {
            let byte = UInt8(truncatingIfNeeded: nodeWord(node, index / 8) >> (56 - 8 * UInt64(index % 8)))
            key.storeBytes(of: byte, toByteOffset: 4 + index, as: UInt8.self)
        }
    }

    // MARK: Pools

    func takeNode() -> Int32 {
        freeNodeCount -= 1
        let node = freeNodes.pointer[freeNodeCount]
        setChild(node, 0, -1)
        setChild(node, 1, -1)
        setValueSlot(node, -1)
        return node
    }

    func takeValue() -> Int32 {
        freeValueCount -= 1
        return freeValues.pointer[freeValueCount]
    }

    func releaseValue(of node: Int32) {
        let slot = valueSlot(node)
        guard slot >= 0 else { return }
        freeValues.pointer[freeValueCount] = slot
        freeValueCount += 1
        setValueSlot(node, -1)
    }

    func releaseNode(_ node: Int32) {
        releaseValue(of: node)
        freeNodes.pointer[freeNodeCount] = node
        freeNodeCount += 1
    }
}
