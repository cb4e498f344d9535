/// The helpers that report on the world outside the program: time, randomness, the
/// processor and the current task, as the host supplies them.
extension KernelHelpers {
    static func environmentHelpers(_ host: HostEnvironment, random: RandomState) -> [Helper] {
        let clock = host.clock, processor = UInt64(host.processor), task = host.task
        return [
            Helper(id: 5, name: "ktime_get_ns") { _ throws(VMError) in clock() },
            Helper(id: 125, name: "ktime_get_boot_ns") { _ throws(VMError) in clock() },
            Helper(id: 7, name: "get_prandom_u32") { _ throws(VMError) in UInt64(random.next()) },
            Helper(id: 8, name: "get_smp_processor_id") { _ throws(VMError) in processor },
            Helper(id: 14, name: "get_current_pid_tgid") { _ throws(VMError) in
                guard let task else { return Errno.invalid }
                return UInt64(task.tgid) << 32 | UInt64(task.pid)
            },
            Helper(id: 15, name: "get_current_uid_gid") { _ throws(VMError) in
                guard let task else { return Errno.invalid }
                return UInt64(task.gid) << 32 | UInt64(task.uid)
            },
            Helper(id: 16, name: "get_current_comm") { call throws(VMError) in
                let buffer = try call.memory(at: call.r1, count: try size(call.r2, call), writing: true)
                buffer.initializeMemory(as: UInt8.self, repeating: 0)
                guard let task else { return Errno.invalid }
                // TASK_COMM_LEN is 16: at most 15 bytes and a NUL, cut to the buffer.
                for (index, byte) in task.comm.utf8.prefix(min(15, buffer.count - 1)).enumerated() { buffer[index] = byte }
                return 0
            },
        ]
    }
}

/// get_prandom_u32's generator for one loaded program (SplitMix64): no locks, no sharing
/// between threads, reproducible when the host gives a seed.
final class RandomState: @unchecked Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    func next() -> UInt32 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return UInt32(truncatingIfNeeded: z ^ (z >> 31))
    }
}
