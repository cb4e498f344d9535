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
    let bucketMask: Int
    let lockMask: Int
    let seed: UInt64

    let keys: MapMemory
    let values: MapMemory
    // Under the bucket locks:
    let heads: FixedArray<Int32>
    let next: FixedArray<Int32>
    let hashes: FixedArray<UInt32>
    /// Each element's bucket, -1 while it is free; read without a lock by the clock hand.
    let bucketOfElement: FixedArray<Atomic<Int32>>
    /// LRU: set by lookups, cleared by the clock hand.
    let referenced: FixedArray<Atomic<UInt8>>
    let locks: FixedArray<Mutex<Void>>
    /// Free element indexes; the count is the mutex's value.
    let freeStack: FixedArray<Int32>
    let freeCount: Mutex<Int>
    let clockHand = Mutex<Int>(0)

    static func bucketCount(capacity: Int) -> Int {
        var count = 1
        while count < capacity { count <<= 1 }
        return count
    }

    static func bytesNeeded(keySize: Int, valueSize: Int, perCPU: Bool, cpuCount: Int, capacity: Int) -> Int {
        let perElement = keySize + perCPUStride(valueSize: valueSize) * (perCPU ? cpuCount : 1) + 20
        return perElement * capacity + 8 * bucketCount(capacity: capacity)
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
        let buckets = HashTable.bucketCount(capacity: capacity)
        bucketMask = buckets - 1
        lockMask = min(buckets, 1024) - 1
        seed = zeroSeed ? 0 : UInt64.random(in: 0...UInt64.max)
        keys = MapMemory(count: keySize * capacity)
        values = MapMemory(count: elementStride * capacity)
        heads = FixedArray(count: buckets) { _ in -1 }
        next = FixedArray(count: capacity) { _ in -1 }
        hashes = FixedArray(count: capacity) { _ in 0 }
        bucketOfElement = FixedArray(count: capacity) { _ in Atomic(-1) }
        referenced = FixedArray(count: isLRU ? capacity : 0) { _ in Atomic(0) }
        locks = FixedArray(count: lockMask + 1) { _ in Mutex(()) }
        // Handed out from index 0 up, so a fresh table fills its memory in order.
        freeStack = FixedArray(count: capacity) { Int32(capacity - 1 - $0) }
        freeCount = Mutex(capacity)
    }

    /// Elements in the table.
    var count: Int { capacity - freeCount.withLock { $0 } }

    @inline(__always)
    func key(_ element: Int) -> UnsafeMutableRawPointer { keys.base + element * keySize }

    @inline(__always)
    func value(_ element: Int) -> UnsafeMutableRawPointer { values.base + element * elementStride }

    /// A zero-seeded table (BPF_F_ZERO_SEED) hashes as the kernel's does (`kernelHash`), so
    /// that walks and dumps meet its keys in the kernel's order.
    @inline(__always)
    func hash(_ key: UnsafeRawPointer) -> UInt64 { seed == 0 ? kernelHash(key) : hashKey(key, count: keySize, seed: seed) }

    /// The element holding `key` in `bucket`, or -1. Under the bucket's lock.
    @inline(__always)
    func find(_ key: UnsafeRawPointer, hash: UInt32, bucket: Int) -> Int {
        var element = Int(heads.pointer[bucket])
        while element >= 0 {
            if hashes.pointer[element] == hash && bytesEqual(self.key(element), key, count: keySize) { return element }
            element = Int(next.pointer[element])
        }
        return -1
    }

    // MARK: Operations

    /// The element holding `key`, or -1; an LRU element is marked as used.
    @inline(__always)
    func lookup(_ key: UnsafeRawPointer) -> Int {
        let hash = self.hash(key)
        let bucket = Int(truncatingIfNeeded: hash) & bucketMask
        let element = locks.pointer[bucket & lockMask].withLock { _ in find(key, hash: UInt32(truncatingIfNeeded: hash), bucket: bucket) }
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
        if flags & ~MapUpdateFlags.lock.rawValue > MapUpdateFlags.exist.rawValue || flags & MapUpdateFlags.lock.rawValue != 0 {
            return LinuxErrno.invalid
        }
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
                    store(value, into: element, cpu: cpu, isNew: false)
                    return 0
                }
                if flags == MapUpdateFlags.exist.rawValue { return LinuxErrno.noEntry }
                let fresh = reserved >= 0 ? reserved : popFree()
                reserved = -1
                if fresh < 0 { return isLRU ? -1 : LinuxErrno.tooBig }
                self.key(fresh).copyMemory(from: key, byteCount: keySize)
                store(value, into: fresh, cpu: cpu, isNew: true)
                hashes.pointer[fresh] = UInt32(truncatingIfNeeded: hash)
                next.pointer[fresh] = heads.pointer[bucket]
                heads.pointer[bucket] = Int32(fresh)
                bucketOfElement.pointer[fresh].store(Int32(bucket), ordering: .relaxed)
                if isLRU { referenced.pointer[fresh].store(0, ordering: .relaxed) }
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
                let following = Int(next.pointer[element])
                guard following >= 0 else { return false }
                output.copyMemory(from: self.key(following), byteCount: keySize)
                return true
            }
            if found { return 0 }
        }
        var bucket = firstBucket
        while bucket <= bucketMask {
            defer { bucket += 1 }
            let found: Bool = locks.pointer[bucket & lockMask].withLock { _ in
                let head = Int(heads.pointer[bucket])
                guard head >= 0 else { return false }
                output.copyMemory(from: self.key(head), byteCount: keySize)
                return true
            }
            if found { return 0 }
        }
        return LinuxErrno.noEntry
    }

    // MARK: Elements

    @inline(__always)
    func store(_ value: UnsafeRawPointer, into element: Int, cpu: Int, isNew: Bool) {
        let destination = self.value(element)
        if !isPerCPU {
            destination.copyMemory(from: value, byteCount: valueSize)
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
        var link = heads.pointer + bucket
        while link.pointee >= 0 {
            if Int(link.pointee) == element {
                link.pointee = next.pointer[element]
                break
            }
            link = next.pointer + Int(link.pointee)
        }
        bucketOfElement.pointer[element].store(-1, ordering: .relaxed)
        if free { pushFree(element) }
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
