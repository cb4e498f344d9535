/// bpf_tail_call: the helper records where the program jumps and ends its run; the loaded
/// program then runs the target on the same context, as the kernel jumps without returning.
final class TailCalls: @unchecked Sendable {
    /// MAX_TAIL_CALL_CNT: tail calls one run may chain.
    static let limit = 33

    /// The program id the last run jumped to, until the loaded program runs it.
    var target: UInt32?
    var count = 0

    func reset() {
        target = nil
        count = 0
    }
}

extension KernelHelpers {
    /// bpf_tail_call(ctx, prog_array, index): a jump to the program in the slot; when the
    /// slot is empty, the index past the end or the chain already 33 long, the program goes on.
    static func tailCall(_ table: MapTable, frame: PacketFrame, _ tailCalls: TailCalls) -> Helper {
        Helper(id: 12, name: "tail_call") { call throws(VMError) in
            try frame.checkContext(call)
            guard let index = table.index(of: call.r2) else { throw call.failure("argument 2 (r2) \(hex(call.r2)) is not a map") }
            let map = table.maps[index]
            guard let programs = map as? ProgramArrayMap else {
                throw call.failure("map \(map.name) is a \(map.type) map, not a program array")
            }
            guard call.r3 <= UInt64(UInt32.max), tailCalls.count < TailCalls.limit,
                  let id = programs.program(at: UInt32(call.r3)) else { return Errno.noEntry }
            tailCalls.count += 1
            tailCalls.target = id
            call.stopsProgram = true
            return 0
        }
    }
}
