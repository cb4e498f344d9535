/// A function that programs call with `call ID`: arguments in r1–r5, result in r0.
/// Helpers run outside the dispatch loop, so a closure call here costs nothing per instruction.
public struct Helper: Sendable {
    public var id: Int32
    public var name: String
    public var body: @Sendable (inout HelperCall) throws(VMError) -> UInt64

    public init(id: Int32, name: String, body: @escaping @Sendable (inout HelperCall) throws(VMError) -> UInt64) {
        self.id = id
        self.name = name
        self.body = body
    }
}

/// What a helper sees of the program that called it, and what it may do to the run.
public struct HelperCall {
    public let id: Int32
    public let r1: UInt64, r2: UInt64, r3: UInt64, r4: UInt64, r5: UInt64
    /// Set to end the program at once, with the helper's result as r0.
    public var stopsProgram = false
    let accessible: [MemoryRegion]
    var granted: [MemoryRegion] = []

    init(id: Int32, registers: UnsafeMutablePointer<UInt64>, accessible: [MemoryRegion]) {
        self.id = id
        (r1, r2, r3, r4, r5) = (registers[1], registers[2], registers[3], registers[4], registers[5])
        self.accessible = accessible
    }

    /// The program memory an argument points to, checked like a program's own access.
    public func memory(at address: UInt64, count: Int, writing: Bool = false) throws(VMError) -> UnsafeMutableRawBufferPointer {
        let all = accessible + granted
        guard count >= 0, all.contains(where: { $0.contains(address, size: count) && (!writing || $0.isWritable) }),
              let base = UnsafeMutableRawPointer(bitPattern: UInt(address)) else {
            throw VMError(.outOfBounds(address: address, size: count, isWrite: writing), regions: all)
        }
        return UnsafeMutableRawBufferPointer(start: base, count: count)
    }

    /// Lets the program access `region` (say, a value the helper returns a pointer to)
    /// for the rest of this run. The memory must stay valid until the run ends.
    public mutating func grant(_ region: MemoryRegion) { granted.append(region) }

    /// A failure the program sees as an error naming this helper.
    public func failure(_ message: String) -> VMError { VMError(.helperFailed(id: id, message: message)) }
}

extension Helper {
    /// Calls the helper for a running program, the one way both engines do: it sees r1–r5,
    /// the live stack, the input and what helpers granted before; returns r0 and whether
    /// the program stops, and adds what it grants to `granted`.
    func call(registers: UnsafeMutablePointer<UInt64>, stack: MemoryRegion, input: (start: UInt64, count: Int),
              granted: inout [MemoryRegion]?) -> Result<(UInt64, Bool), VMError> {
        var accessible = [stack]
        if input.count > 0 { accessible.append(MemoryRegion(name: "input", start: input.start, count: input.count)) }
        var call = HelperCall(id: id, registers: registers, accessible: accessible + (granted ?? []))
        do throws(VMError) {
            let value = try body(&call)
            if !call.granted.isEmpty { granted = (granted ?? []) + call.granted }
            return .success((value, call.stopsProgram))
        } catch {
            return .failure(error)
        }
    }
}
