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

/// The helpers of one engine: their ids and bodies in memory of their own. Each body sits in
/// a box that `boxes` owns and `bodies` points to unretained, so that a call borrows the
/// closure instead of copying it (a copy retains and releases its context on every call).
final class HelperTable {
    final class Box {
        let body: @Sendable (inout HelperCall) throws(VMError) -> UInt64
        init(_ body: @escaping @Sendable (inout HelperCall) throws(VMError) -> UInt64) { self.body = body }
    }

    let ids: UnsafeMutablePointer<Int32>
    private let boxes: [Box]
    private let bodies: UnsafeMutablePointer<Unmanaged<Box>>
    let count: Int
    /// Helper id -> index.
    let index: [Int32: Int32]

    init(_ helpers: [Helper]) {
        count = helpers.count
        ids = .allocate(capacity: max(1, helpers.count))
        ids.initialize(from: helpers.map(\.id), count: helpers.count)
        boxes = helpers.map { Box($0.body) }
        bodies = .allocate(capacity: max(1, helpers.count))
        bodies.initialize(from: boxes.map { Unmanaged.passUnretained($0) }, count: helpers.count)
        var index: [Int32: Int32] = [:]
        for (position, helper) in helpers.enumerated() { index[helper.id] = Int32(position) }
        self.index = index
    }

    deinit {
        ids.deallocate()
        bodies.deallocate()
    }

    /// Calls helper `index` for a running program, the one way both engines do: it sees
    /// r1–r5, the live stack, the input and `regions` (memory known at load time and what
    /// helpers granted before); returns r0 and whether the program stops; what it grants
    /// goes into `regions`.
    /// `runner` is the engine, for helpers that call the program's functions back.
    func call(_ index: Int, registers: UnsafeMutablePointer<UInt64>, stack: (start: UInt64, count: Int),
              input: (start: UInt64, count: Int), regions: UnsafeMutablePointer<[MemoryRegion]?>,
              runner: RunningEngine) -> Result<(UInt64, Bool), VMError> {
        var call = HelperCall(id: ids[index], registers: registers, stack: stack, input: input, regions: regions, runner: runner)
        return bodies[index]._withUnsafeGuaranteedRef { box in Self.call(box, &call) }
    }

    /// The do/catch stays out of the closure: typed throws inside closures trip Swift 6.3's
    /// release-mode miscompile.
    @inline(never)
    private static func call(_ box: Box, _ call: inout HelperCall) -> Result<(UInt64, Bool), VMError> {
        do throws(VMError) {
            let value = try box.body(&call)
            return .success((value, call.stopsProgram))
        } catch {
            return .failure(error)
        }
    }
}

/// What a helper sees of the program that called it, and what it may do to the run.
/// Building one costs no allocation and no reference counting: it holds plain numbers and
/// a pointer to the engine's list of regions.
public struct HelperCall {
    public let id: Int32
    public let r1: UInt64, r2: UInt64, r3: UInt64, r4: UInt64, r5: UInt64
    /// Set to end the program at once, with the helper's result as r0.
    public var stopsProgram = false
    let stack: (start: UInt64, count: Int)
    let input: (start: UInt64, count: Int)
    /// The engine's memory known at load time (maps, the context) and what helpers granted.
    let regions: UnsafeMutablePointer<[MemoryRegion]?>
    /// The engine's registers, which a callback's run uses (`callFunction`).
    let registers: UnsafeMutablePointer<UInt64>
    /// The engine running the program.
    let runner: RunningEngine

    init(id: Int32, registers: UnsafeMutablePointer<UInt64>, stack: (start: UInt64, count: Int),
         input: (start: UInt64, count: Int), regions: UnsafeMutablePointer<[MemoryRegion]?>, runner: RunningEngine) {
        self.id = id
        (r1, r2, r3, r4, r5) = (registers[1], registers[2], registers[3], registers[4], registers[5])
        self.stack = stack
        self.input = input
        self.regions = regions
        self.registers = registers
        self.runner = runner
    }

    /// The program memory an argument points to, checked like a program's own access.
    public func memory(at address: UInt64, count: Int, writing: Bool = false) throws(VMError) -> UnsafeMutableRawBufferPointer {
        guard count >= 0, isAccessible(address, count, writing), let base = UnsafeMutableRawPointer(bitPattern: UInt(address)) else {
            throw VMError(.outOfBounds(address: address, size: count, isWrite: writing), regions: allRegions)
        }
        return UnsafeMutableRawBufferPointer(start: base, count: count)
    }

    /// The NUL-terminated string at `address` (at most `limit` bytes), checked byte by byte,
    /// without its NUL; an error when no NUL comes first.
    public func string(at address: UInt64, limit: Int = 4096) throws(VMError) -> UnsafeMutableRawBufferPointer {
        var length = 0
        while true {
            let byte = try memory(at: address &+ UInt64(length), count: 1)
            if byte[0] == 0 { break }
            length += 1
            guard length < limit else { throw failure("the string at \(hex(address)) has no NUL in its first \(limit) bytes") }
        }
        return try memory(at: address, count: length)
    }

    func isAccessible(_ address: UInt64, _ count: Int, _ writing: Bool) -> Bool {
        let stackRegion = MemoryRegion(name: "stack", start: stack.start, count: stack.count)
        if stackRegion.contains(address, size: count) { return true }
        if input.count > 0, MemoryRegion(name: "input", start: input.start, count: input.count).contains(address, size: count) {
            return true
        }
        return grantedContains(regions.pointee, address, count, writing)
    }

    /// Every region the program could use, for an error message.
    var allRegions: [MemoryRegion] {
        var all = [MemoryRegion(name: "stack", start: stack.start, count: stack.count)]
        if input.count > 0 { all.append(MemoryRegion(name: "input", start: input.start, count: input.count)) }
        return all + (regions.pointee ?? [])
    }

    /// Lets the program access `region` (say, a value the helper returns a pointer to)
    /// for the rest of this run. The memory must stay valid until the run ends.
    public mutating func grant(_ region: MemoryRegion) { regions.pointee = (regions.pointee ?? []) + [region] }

    /// A failure the program sees as an error naming this helper.
    public func failure(_ message: String) -> VMError { VMError(.helperFailed(id: id, message: message)) }
}
