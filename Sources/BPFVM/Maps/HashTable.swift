import Synchronization

/// The chained hash table behind the hash maps (plain, per-CPU, LRU) and the hash of maps.
///
/// Every element is allocated at creation: `capacity` keys and values in two blocks, so a value
/// keeps its address while its key is in the table (and the memory stays the map's after a
/// delete, as the kernel's preallocated elements do). Buckets are chains of element indexes; a
/// bucket's chain, and the keys and values of its elements, change only under that bucket's
/// lock (locks are striped, one per bucket up to 1024). Free elements wait on a stack under
/// their own lock. Lock order: clock hand, then a bucket, then the free stack.
///
/// Programs' lookups take no lock, as the kernel's run under RCU: they walk the chain with
/// relaxed atomic loads (plain loads on x86) and check the bucket's sequence count, which
/// writers make odd while they link or unlink an element of the bucket; a walk that a writer
/// overlapped walks again. As in the kernel's preallocated hash, a deleted element may be
/// reused at once, so a value a program holds may change under it, but it is always one of
/// this map's values, never freed memory.
///
/// Replacing a key's value goes as in the kernel (kernel/bpf/hashtab.c): a plain or LRU table
/// links a new element at the head of the bucket, then unlinks the old one, so the key moves
/// to the front of its bucket's walk; per-CPU tables, and BPF_F_LOCK writes, change the value
/// in place. A plain table takes the new element from its lock stripe's spare and keeps the old
/// one as the spare (as the kernel swaps with its per-CPU extra element), so a replace works in
/// a full table; an LRU table takes it from the free elements (evicting if need be).
///
/// An LRU table never fails for want of room: when no element is free, the clock hand walks
/// the elements, giving each one looked up since it last passed a second chance, and evicts the
/// first without one.
final class HashTable: @unchecked Sendable {
    let keySize: Int
    let valueSize: Int
    let isPerCPU: Bool
    let cpuCount: Int
    let slotStride: Int
    /// Value bytes of one element: one slot, or one per CPU.
    let elementStride: Int
    let capacity: Int
    let isLRU: Bool
    /// Whether replacing a key links a new element (plain and LRU tables, not per-CPU ones).
    let replacesElements: Bool
    /// Where a value holds its spin lock, or -1; set once before programs run.
    var lockOffset = -1
    let bucketMask: Int
    let lockMask: Int
    let seed: UInt64

    /// Each key in `keyWords` 8-byte words, zero-padded, so lookups compare it with atomic loads.
    let keyWords: Int
    let keys: FixedArray<Atomic<UInt64>>
    let values: MapMemory
    // Written under the bucket locks; read by lookups without them.
    let heads: FixedArray<Atomic<Int32>>
    let next: FixedArray<Atomic<Int32>>
    let hashes: FixedArray<Atomic<UInt32>>
    /// Per bucket: even while its chain is still, odd while a writer links or unlinks.
    let sequences: FixedArray<Atomic<UInt32>>
    /// Each element's bucket, -1 while it is free; read without a lock by the clock hand.
    let bucketOfElement: FixedArray<Atomic<Int32>>
    /// LRU: set by lookups, cleared by the clock hand.
    let referenced: FixedArray<Atomic<UInt8>>
    let locks: FixedArray<Mutex<Void>>
    /// Free element indexes; the count is the mutex's value.
    let freeStack: FixedArray<Int32>
    let freeCount: Mutex<Int>
    /// Plain tables: per lock stripe, the element the next replace under that lock links (past
    /// `capacity`, or an element a replace took out). Changed only under the stripe's lock.
    let spares: FixedArray<Int32>
    let clockHand = Mutex<Int>(0)

    static func bucketCount(capacity: Int) -> Int {
        var count = 1
        while count < capacity { count <<= 1 }
        return count
    }

    static func bytesNeeded(keySize: Int, valueSize: Int, perCPU: Bool, cpuCount: Int, capacity: Int) -> Int {
        let perElement = perCPUStride(valueSize: keySize) + perCPUStride(valueSize: valueSize) * (perCPU ? cpuCount : 1) + 20
        let buckets = bucketCount(capacity: capacity)
        let spares = perCPU ? 0 : min(buckets, 1024)
        return perElement * (capacity + spares) + 8 * buckets
    }

    init(keySize: Int, valueSize: Int, perCPU: Bool, cpuCount: Int, capacity: Int, isLRU: Bool, zeroSeed: Bool) {
        self.keySize = keySize
        self.valueSize = valueSize
        isPerCPU = perCPU
        self.cpuCount = perCPU ? cpuCount : 1
        slotStride = perCPUStride(valueSize: valueSize)
        elementStride = slotStride * self.cpuCount
        self.capacity = capacity
        self.isLRU = isLRU
        replacesElements = !perCPU
        let buckets = HashTable.bucketCount(capacity: capacity)
        bucketMask = buckets - 1
        lockMask = min(buckets, 1024) - 1
        let spareCount = !perCPU && !isLRU ? lockMask + 1 : 0
        let elements = capacity + spareCount
        seed = zeroSeed ? 0 : UInt64.random(in: 0...UInt64.max)
        keyWords = (keySize + 7) / 8
        keys = FixedArray(count: keyWords * elements) { _ in Atomic(0) }
        values = MapMemory(count: elementStride * elements)
        heads = FixedArray(count: buckets) { _ in Atomic(-1) }
        next = FixedArray(count: elements) { _ in Atomic(-1) }
        hashes = FixedArray(count: elements) { _ in Atomic(0) }
        sequences = FixedArray(count: buckets) { _ in Atomic(0) }
        bucketOfElement = FixedArray(count: elements) { _ in Atomic(-1) }
        referenced = FixedArray(count: isLRU ? capacity : 0) { _ in Atomic(0) }
        locks = FixedArray(count: lockMask + 1) { _ in Mutex(()) }
        // Handed out from index 0 up, so a fresh table fills its memory in order.
        freeStack = FixedArray(count: capacity) { Int32(capacity - 1 - $0) }
        freeCount = Mutex(capacity)
        spares = FixedArray(count: spareCount) { Int32(capacity + $0) }
    }

    /// Elements in the table.
    var count: Int { capacity - freeCount.withLock { $0 } }

    /// The key's bytes (then zeros up to the word); change them only through `storeKey`.
    @inline(__always)
    func key(_ element: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(keys.pointer + element * keyWords) }

    @inline(__always) func head(_ bucket: Int) -> Int { Int(heads.pointer[bucket].load(ordering: .relaxed)) }
    @inline(__always) func successor(_ element: Int) -> Int { Int(next.pointer[element].load(ordering: .relaxed)) }

    /// Word `word` of a key given by a program or the host, zero past its end.
    @inline(__always)
    func word(_ word: Int, of key: UnsafeRawPointer) -> UInt64 {
        let offset = word * 8
        if offset + 8 <= keySize { return key.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
        var value: UInt64 = 0
        for index in 0..<(keySize - offset) {
            value |= UInt64(key.load(fromByteOffset: offset + index, as: UInt8.self)) << (8 * UInt64(index))
        }
        return value
    }

    @inline(__always)
    func keyMatches(_ element: Int, _ key: UnsafeRawPointer) -> Bool {
        let stored = keys.pointer + element * keyWords
        for index in 0..<keyWords where stored[index].load(ordering: .relaxed) != word(index, of: key) { return false }
        return true
    }

    func storeKey(_ key: UnsafeRawPointer, into element: Int) {
        let stored = keys.pointer + element * keyWords
        for index in 0..<keyWords { stored[index].store(word(index, of: key), ordering: .relaxed) }
    }

    func copyKey(of element: Int, into output: UnsafeMutableRawPointer) {
        let stored = keys.pointer + element * keyWords
        for index in 0..<keyWords {
            let value = stored[index].load(ordering: .relaxed)
            for byte in 0..<min(8, keySize - index * 8) {
                output.storeBytes(of: UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte))), toByteOffset: index * 8 + byte, as: UInt8.self)
            }
        }
    }

    /// Runs a change to `bucket`'s chain (under its lock) with its sequence odd meanwhile.
    @inline(__always)
    func changeChain<T>(_ bucket: Int, _ change: () -> T) -> T {
        let start = sequences.pointer[bucket].load(ordering: .relaxed)
        sequences.pointer[bucket].store(start &+ 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        defer { sequences.pointer[bucket].store(start &+ 2, ordering: .releasing) }
        return change()
    }

    @inline(__always)
    func value(_ element: Int) -> UnsafeMutableRawPointer { values.base + element * elementStride }

    /// A zero-seeded table (BPF_F_ZERO_SEED) hashes as the kernel's does (`kernelHash`), so
    /// that walks and dumps meet its keys in the kernel's order.
    @inline(__always)
    func hash(_ key: UnsafeRawPointer) -> UInt64 { seed == 0 ? kernelHash(key) : hashKey(key, count: keySize, seed: seed) }

    /// The element holding `key` in `bucket`, or -1. Under the bucket's lock, or checked
    /// against the bucket's sequence: without the lock a walk may stray into another chain
    /// (an element unlinked and reused meanwhile), so it stops after `capacity` steps.
    @inline(__always)
    func find(_ key: UnsafeRawPointer, hash: UInt32, bucket: Int) -> Int {
        var element = head(bucket)
        var steps = 0
        while element >= 0 && steps < capacity + spares.count {
            if hashes.pointer[element].load(ordering: .relaxed) == hash && keyMatches(element, key) { return element }
            element = successor(element)
            steps += 1
        }
        return -1
    }

    /// `find` without the lock: a walk that a writer of the bucket overlapped walks again.
    @inline(__always)
    func lockFreeFind(_ key: UnsafeRawPointer, hash: UInt32, bucket: Int) -> Int {
        while true {
            let before = sequences.pointer[bucket].load(ordering: .acquiring)
            if before & 1 == 0 {
                let element = find(key, hash: hash, bucket: bucket)
                atomicMemoryFence(ordering: .acquiring)
                if sequences.pointer[bucket].load(ordering: .relaxed) == before { return element }
            }
        }
    }

    // MARK: Operations

    /// The element holding `key`, or -1; an LRU element is marked as used.
    @inline(__always)
    func lookup(_ key: UnsafeRawPointer) -> Int {
        let hash = self.hash(key)
        let bucket = Int(truncatingIfNeeded: hash) & bucketMask
        let element = lockFreeFind(key, hash: UInt32(truncatingIfNeeded: hash), bucket: bucket)
        if isLRU && element >= 0 && referenced.pointer[element].load(ordering: .relaxed) == 0 {
            referenced.pointer[element].store(1, ordering: .relaxed)
        }
        return element
    }

    /// Copies the value of `key` out under its bucket's lock (every CPU's for per-CPU tables);
    /// with `delete`, removes it too. 0 or ENOENT.
    func copyValue(of key: UnsafeRawPointer, into output: UnsafeMutableRawPointer, delete: Bool) -> Int32 {
        let hash = self.hash(key)
        let bucket = Int(truncatingIfNeeded: hash) & bucketMask
        return locks.pointer[bucket & lockMask].withLock { _ in
            let element = find(key, hash: UInt32(truncatingIfNeeded: hash), bucket: bucket)
            guard element >= 0 else { return LinuxErrno.noEntry }
            output.copyMemory(from: value(element), byteCount: isPerCPU ? elementStride : valueSize)
            if delete { unlink(element, bucket: bucket) }
            return 0
        }
    }

    /// Inserts or replaces. `cpu` < 0: `value` holds every CPU's slot (the host's layout);
    /// otherwise only that CPU's value is written and a new element's other CPUs start at zero.
    /// 0 or EINVAL, EEXIST, ENOENT, E2BIG (full), ENOMEM (LRU with nothing to evict).
    func update(_ key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64, cpu: Int) -> Int32 {
        let locked = flags & MapUpdateFlags.lock.rawValue != 0
        if flags & ~MapUpdateFlags.lock.rawValue > MapUpdateFlags.exist.rawValue || locked && lockOffset < 0 {
            return LinuxErrno.invalid
        }
        let flags = flags & ~MapUpdateFlags.lock.rawValue
        let hash = self.hash(key)
        let bucket = Int(truncatingIfNeeded: hash) & bucketMask
        // A full LRU table evicts outside the bucket lock, keeps the evicted element for this
        // update (so no other thread can take it first) and tries once more.
        var reserved = -1
        for _ in 0..<2 {
            let status: Int32 = locks.pointer[bucket & lockMask].withLock { _ in
                let element = find(key, hash: UInt32(truncatingIfNeeded: hash), bucket: bucket)
                if element >= 0 {
                    if flags == MapUpdateFlags.noExist.rawValue { return LinuxErrno.exists }
                    if locked || !replacesElements {
                        store(value, into: element, cpu: cpu, isNew: false, locked: locked)
                        return 0
                    }
                } else if flags == MapUpdateFlags.exist.rawValue {
                    return LinuxErrno.noEntry
                }
                let fresh: Int
                if element >= 0 && !isLRU {
                    fresh = Int(spares.pointer[bucket & lockMask])
                    spares.pointer[bucket & lockMask] = Int32(element)
                } else {
                    fresh = reserved >= 0 ? reserved : popFree()
                    reserved = -1
                    if fresh < 0 { return isLRU ? -1 : LinuxErrno.tooBig }
                }
                // Linked before the old element goes, all inside one odd sequence: a lock-free
                // reader walks again and finds one of the two, as the kernel's RCU readers do.
                changeChain(bucket) {
                    storeKey(key, into: fresh)
                    store(value, into: fresh, cpu: cpu, isNew: true, locked: false)
                    hashes.pointer[fresh].store(UInt32(truncatingIfNeeded: hash), ordering: .relaxed)
                    next.pointer[fresh].store(Int32(head(bucket)), ordering: .relaxed)
                    heads.pointer[bucket].store(Int32(fresh), ordering: .relaxed)
                    if element >= 0 { removeFromChain(element, bucket: bucket) }
                }
                bucketOfElement.pointer[fresh].store(Int32(bucket), ordering: .relaxed)
                if isLRU { referenced.pointer[fresh].store(0, ordering: .relaxed) }
                if element >= 0 {
                    bucketOfElement.pointer[element].store(-1, ordering: .relaxed)
                    if isLRU { pushFree(element) }
                }
                return 0
            }
            if status >= 0 {
                // The key came in meanwhile, and the evicted element is not needed.
                if reserved >= 0 { pushFree(reserved) }
                return status
            }
            reserved = evictOne()
            if reserved < 0 { return LinuxErrno.noMemory }
        }
        if reserved >= 0 { pushFree(reserved) }
        return LinuxErrno.noMemory
    }

    /// 0 or ENOENT.
    func delete(_ key: UnsafeRawPointer) -> Int32 {
        let hash = self.hash(key)
        let bucket = Int(truncatingIfNeeded: hash) & bucketMask
        return locks.pointer[bucket & lockMask].withLock { _ in
            let element = find(key, hash: UInt32(truncatingIfNeeded: hash), bucket: bucket)
            guard element >= 0 else { return LinuxErrno.noEntry }
            unlink(element, bucket: bucket)
            return 0
        }
    }

    /// The key after `key` in bucket order (the first for nil or a key not in the table);
    /// 0 or ENOENT at the end.
    func nextKey(after key: UnsafeRawPointer?, into output: UnsafeMutableRawPointer) -> Int32 {
        var firstBucket = 0
        if let key {
            let hash = self.hash(key)
            let bucket = Int(truncatingIfNeeded: hash) & bucketMask
            let found: Bool = locks.pointer[bucket & lockMask].withLock { _ in
                let element = find(key, hash: UInt32(truncatingIfNeeded: hash), bucket: bucket)
                guard element >= 0 else { return false }
                firstBucket = bucket + 1
                let following = successor(element)
                guard following >= 0 else { return false }
                copyKey(of: following, into: output)
                return true
            }
            if found { return 0 }
        }
        var bucket = firstBucket
        while bucket <= bucketMask {
            defer { bucket += 1 }
            let found: Bool = locks.pointer[bucket & lockMask].withLock { _ in
                let first = head(bucket)
                guard first >= 0 else { return false }
                copyKey(of: first, into: output)
                return true
            }
            if found { return 0 }
        }
        return LinuxErrno.noEntry
    }

    // MARK: Elements

    /// A new element's spin lock starts free; an element in place keeps its lock word, and
    /// with `locked` (BPF_F_LOCK) the copy happens under that lock.
    @inline(__always)
    func store(_ value: UnsafeRawPointer, into element: Int, cpu: Int, isNew: Bool, locked: Bool) {
        let destination = self.value(element)
        if !isPerCPU {
            if isNew && lockOffset >= 0 { (destination + lockOffset).storeBytes(of: 0, as: UInt32.self) }
            storeMapValue(into: destination, from: value, count: valueSize, lockOffset: lockOffset, locked: locked)
        } else if cpu < 0 {
            // bpf(2) copies each CPU's whole 8-byte-rounded slot, padding included.
            destination.copyMemory(from: value, byteCount: elementStride)
        } else {
            if isNew { destination.initializeMemory(as: UInt8.self, repeating: 0, count: elementStride) }
            (destination + cpu * slotStride).copyMemory(from: value, byteCount: valueSize)
        }
    }

    /// Takes `element` out of `bucket`'s chain and, unless `free` is false, frees it. Under
    /// the bucket's lock.
    func unlink(_ element: Int, bucket: Int, free: Bool = true) {
        changeChain(bucket) { removeFromChain(element, bucket: bucket) }
        bucketOfElement.pointer[element].store(-1, ordering: .relaxed)
        if free { pushFree(element) }
    }

    /// Inside `changeChain`, under the bucket's lock.
    private func removeFromChain(_ element: Int, bucket: Int) {
        if head(bucket) == element {
            heads.pointer[bucket].store(Int32(successor(element)), ordering: .relaxed)
            return
        }
        var previous = head(bucket)
        while previous >= 0 {
            let following = successor(previous)
            if following == element {
                next.pointer[previous].store(Int32(successor(element)), ordering: .relaxed)
                return
            }
            previous = following
        }
    }

    func pushFree(_ element: Int) {
        freeCount.withLock { count in
            freeStack.pointer[count] = Int32(element)
            count += 1
        }
    }

    func popFree() -> Int {
        freeCount.withLock { count in
            guard count > 0 else { return -1 }
            count -= 1
            return Int(freeStack.pointer[count])
        }
    }

    /// LRU: takes out the first element the clock hand finds not used since it last passed,
    /// and hands it to the caller (not to the free stack); -1 when there is none.
    func evictOne() -> Int {
        clockHand.withLock { hand in
            for _ in 0..<(2 * capacity + 1) {
                let element = hand
                hand = hand + 1 == capacity ? 0 : hand + 1
                let bucket = Int(bucketOfElement.pointer[element].load(ordering: .relaxed))
                guard bucket >= 0 else { continue }
                if referenced.pointer[element].load(ordering: .relaxed) != 0 {
                    referenced.pointer[element].store(0, ordering: .relaxed)
                    continue
                }
                let evicted: Bool = locks.pointer[bucket & lockMask].withLock { _ in
                    // It may have been deleted or moved since the unlocked look.
                    guard bucketOfElement.pointer[element].load(ordering: .relaxed) == Int32(bucket) else { return false }
                    unlink(element, bucket: bucket, free: false)
                    return true
                }
                if evicted { return element }
            }
            return -1
        }
    }
}
