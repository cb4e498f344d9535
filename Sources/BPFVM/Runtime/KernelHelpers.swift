import BPFVerifier

/// The kernel's helpers, by the kernel's numbers, for programs of a loaded object: map
/// operations and ring buffers, time, randomness, the processor, the current task,
/// trace_printk, snprintf, strncmp, csum_diff, and the packet helpers of the program's type.
/// Each loaded program gets its own list (its own packet frame and random generator), so a
/// call allocates nothing and no two threads share mutable state.
enum KernelHelpers {
    /// `keys` holds the array indexes for_each_map_elem hands its callbacks; the program's
    /// regions must include it.
    static func helpers(maps: MapTable, frame: PacketFrame?, tailCalls: TailCalls, host: HostEnvironment,
                        keys: CallbackKeys = CallbackKeys(), spinLocks: SpinLockHolding = SpinLockHolding()) -> [Helper] {
        let seed = host.randomSeed ?? host.clock()
        var list = mapHelpers(maps, processor: host.processor)
            + [loop, forEachMapElement(maps, processor: host.processor, keys: keys), spinLock(spinLocks), spinUnlock(spinLocks)]
            + environmentHelpers(host, random: RandomState(seed: seed))
            + stringHelpers(trace: host.trace)
            + [checksumDifference]
        if let frame { list += packetHelpers(frame) + [tailCall(maps, frame: frame, tailCalls)] }
        // The host's own helpers replace the kernel's of the same id.
        let replaced = Set(host.helpers.map(\.helper.id))
        return list.filter { !replaced.contains($0.id) } + host.helpers.map(\.helper)
    }

    /// The prototypes the verifier needs for the host's helpers.
    static func prototypes(_ host: HostEnvironment) -> [Int32: HelperPrototype] {
        var prototypes: [Int32: HelperPrototype] = [:]
        for helper in host.helpers { prototypes[helper.helper.id] = helper.prototype }
        return prototypes
    }
}
