import Synchronization

/// The spin lock a loaded program's run holds, at most one (the verifier allows no more).
/// The kernel's programs cannot stop while holding one; a run here can (a fault in checked
/// mode, the instruction budget, a host helper's error), so the loaded program releases what
/// the run left held, or every later run on that value would wait forever.
final class SpinLockHolding: @unchecked Sendable {
    var word: UnsafeMutablePointer<Atomic<UInt32>>?

    /// Releases the lock a stopped run left held.
    func releaseLeftover() {
        guard let word else { return }
        word.pointee.store(0, ordering: .releasing)
        self.word = nil
    }
}

/// bpf_spin_lock (93) and bpf_spin_unlock (94): a lock on the 4-byte `struct bpf_spin_lock`
/// word inside a map value, taken by swapping 0 for 1 and released by storing 0, as the
/// kernel's queued spin lock behaves for programs. The verifier proves that r1 points at the
/// value's lock word, that a program holds at most one lock, calls no other helper while it
/// does and releases it before it returns, so a wait is only ever for another thread's short
/// critical section.
extension KernelHelpers {
    static func spinLock(_ holding: SpinLockHolding) -> Helper {
        Helper(id: 93, name: "spin_lock") { call throws(VMError) in
            guard let word = lockWord(call.r1) else { throw call.failure("bpf_spin_lock with a null lock") }
            acquire(word)
            holding.word = word
            return 0
        }
    }

    static func spinUnlock(_ holding: SpinLockHolding) -> Helper {
        Helper(id: 94, name: "spin_unlock") { call throws(VMError) in
            guard let word = lockWord(call.r1) else { throw call.failure("bpf_spin_unlock with a null lock") }
            holding.word = nil
            word.pointee.store(0, ordering: .releasing)
            return 0
        }
    }

    @inline(__always)
    private static func lockWord(_ address: UInt64) -> UnsafeMutablePointer<Atomic<UInt32>>? {
        UnsafeMutableRawPointer(bitPattern: UInt(address))?.assumingMemoryBound(to: Atomic<UInt32>.self)
    }
}

/// Copies a map value as the kernel's copy_map_value does: every byte but the spin lock word
/// at `lockOffset` (none when negative), which belongs to whoever holds the lock, not to the
/// value being written.
@inline(__always)
func copyMapValue(into destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int, lockOffset: Int) {
    guard lockOffset >= 0 else {
        destination.copyMemory(from: source, byteCount: count)
        return
    }
    destination.copyMemory(from: source, byteCount: lockOffset)
    let rest = lockOffset + 4
    (destination + rest).copyMemory(from: source + rest, byteCount: count - rest)
}

/// A map write of a whole value: with `locked` (BPF_F_LOCK) under the value's own spin lock,
/// as the kernel's copy_map_value_locked, otherwise as copy_map_value.
@inline(__always)
func storeMapValue(into destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int, lockOffset: Int,
                   locked: Bool) {
    guard locked, lockOffset >= 0 else {
        copyMapValue(into: destination, from: source, count: count, lockOffset: lockOffset)
        return
    }
    let word = (destination + lockOffset).assumingMemoryBound(to: Atomic<UInt32>.self)
    acquire(word)
    copyMapValue(into: destination, from: source, count: count, lockOffset: lockOffset)
    word.pointee.store(0, ordering: .releasing)
}

/// Swaps the lock word from 0 to 1, waiting on plain loads meanwhile so that waiters do not
/// take the cache line from the holder.
@inline(__always)
func acquire(_ word: UnsafeMutablePointer<Atomic<UInt32>>) {
    while !word.pointee.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
        while word.pointee.load(ordering: .relaxed) != 0 {}
    }
}
