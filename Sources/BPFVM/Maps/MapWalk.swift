/// Walking a map's elements for `bpf_for_each_map_elem`, as the kernel walks them: arrays
/// index by index, hash tables bucket by bucket and each bucket's chain from its head (so the
/// callback may delete the element it is given, as the kernel's may). Values keep their
/// addresses (all storage is preallocated), and a walk allocates nothing.

extension ArrayMap {
    /// The value at `index` that a program on `cpu` sees.
    func programValue(at index: Int, cpu: Int) -> UnsafeMutableRawPointer { value(at: index, cpu: cpuIndex(cpu)) }
}

extension HashMap {
    /// Where a walk stands: an element and the bucket whose chain led to it.
    struct WalkPosition {
        var bucket: Int
        var element: Int
    }

    /// The first element of the walk, or nil for an empty map.
    func firstWalkPosition() -> WalkPosition? { table.walkPosition(fromBucket: 0) }

    /// The element after `position`, read after the callback saw it, as the kernel's RCU walk
    /// reads it: its chain's next (a deleted element keeps the next it had), else the head of
    /// the next bucket that has one.
    func walkPosition(after position: WalkPosition) -> WalkPosition? {
        let following = table.following(position.element, inBucket: position.bucket)
        if following >= 0 { return WalkPosition(bucket: position.bucket, element: following) }
        return table.walkPosition(fromBucket: position.bucket + 1)
    }

    /// The key and the value a program on `cpu` sees of an element.
    func walkElement(_ position: WalkPosition, cpu: Int) -> (key: UnsafeMutableRawPointer, value: UnsafeMutableRawPointer) {
        (table.key(position.element), table.value(position.element) + cpuIndex(cpu) * table.slotStride)
    }

    /// The keys' memory, which callbacks read through the key pointer they are given.
    var keyRegion: MemoryRegion {
        MemoryRegion(name: "\(name) keys", start: UInt64(UInt(bitPattern: table.keys.pointer)),
                     count: table.keys.count * MemoryLayout<UInt64>.stride, isWritable: false)
    }
}

extension HashTable {
    /// The kernel's htab_map_hash with a zero seed: jhash2 over keys of whole 32-bit words,
    /// jhash over others; the bucket is its low bits, as here.
    @inline(never)
    func kernelHash(_ key: UnsafeRawPointer) -> UInt64 {
        UInt64(keySize % 4 == 0 ? JenkinsHash.hash(words: key, count: keySize / 4, seed: 0)
                                : JenkinsHash.hash(bytes: key, count: keySize, seed: 0))
    }

    /// The head of the first non-empty bucket from `first` on.
    func walkPosition(fromBucket first: Int) -> HashMap.WalkPosition? {
        var bucket = first
        while bucket <= bucketMask {
            // A look without the lock passes empty buckets by, as the kernel's RCU walk does;
            // the lock then confirms the head.
            if head(bucket) < 0 {
                bucket += 1
                continue
            }
            let element = locks.pointer[bucket & lockMask].withLock { _ in head(bucket) }
            if element >= 0 { return HashMap.WalkPosition(bucket: bucket, element: element) }
            bucket += 1
        }
        return nil
    }

    /// The element's next in its chain (unlinking leaves it), under the bucket's lock; -1 at the end.
    func following(_ element: Int, inBucket bucket: Int) -> Int {
        locks.pointer[bucket & lockMask].withLock { _ in successor(element) }
    }
}
