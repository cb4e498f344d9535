import BPFInstructions
import Synchronization

/// Runs eBPF programs with every memory access checked: loads, stores and atomics may touch
/// only the input memory, the live stack frames and memory that helpers hand out. Any other
/// access, a call too deep, an unknown helper or an endless loop stops the run with a
/// `VMError` naming the pc — never a crash of the host.
///
/// The program is decoded once, at init, into a form made for dispatch; a run allocates
/// nothing. One instance runs one program at a time (it owns its stack); use one per thread.
public final class Interpreter: Engine, CallbackRunner {
    public struct Options: Sendable {
        /// Instructions a run may execute before it is stopped.
        public var instructionBudget: UInt64
        public init(instructionBudget: UInt64 = 100_000_000) {
            self.instructionBudget = instructionBudget
        }
    }

    public static let stackSize = 512
    public static let maxCallDepth = 8
    /// How often `may_goto` falls through before it jumps (the kernel's BPF_MAX_LOOPS).
    public static let mayGotoLimit: UInt64 = 1 << 23

    public let program: Program
    public let options: Options
    /// Instructions executed by the last run, whether it finished or failed.
    public var executedInstructions: UInt64 { counters.pointee }

    private let helpers: HelperTable
    /// Memory the program may use besides its input and stack, known at load time.
    private let regions: [MemoryRegion]?
    private let code: UnsafeMutablePointer<Slot>
    private let codeCount: Int
    private let registers: UnsafeMutablePointer<UInt64>
    private let stack: UnsafeMutableRawPointer
    /// Per call frame: return slot, r6, r7, r8, r9.
    private let frames: UnsafeMutablePointer<UInt64>
    /// Run statistics live outside the object so that a run pays no exclusivity checks.
    private let counters: UnsafeMutablePointer<UInt64>
    /// The budget and may_goto count left, handed to a helper's callbacks and back.
    private let callState: UnsafeMutablePointer<UInt64>

    /// Where a stretch of dispatch starts and, when it ends, where it stopped: the whole run,
    /// or a callback's run inside a helper call.
    private struct Run {
        var pc: Int
        var depth: Int
        /// The frame whose `exit` ends this stretch.
        let baseDepth: Int
        var budget: UInt64
        var mayGotoLeft: UInt64
        var stackLow: UInt64 = 0
        var stackLength: UInt64 = 0
    }

    /// `regions` is memory the program may use besides its input and stack for as long as
    /// the interpreter lives (map values, a context structure).
    public init(program: Program, helpers: [Helper] = [], options: Options = Options(),
                regions: [MemoryRegion] = []) throws(VMError) {
        let table = HelperTable(helpers)
        let slots = try compile(program, helperIndex: { table.index[$0] })
        self.program = program
        self.options = options
        self.helpers = table
        self.regions = regions.isEmpty ? nil : regions
        codeCount = slots.count
        code = .allocate(capacity: slots.count)
        code.initialize(from: slots, count: slots.count)
        registers = .allocate(capacity: 16)
        registers.initialize(repeating: 0, count: 16)
        let stackBytes = Self.stackSize * Self.maxCallDepth
        stack = .allocate(byteCount: stackBytes, alignment: 16)
        stack.initializeMemory(as: UInt8.self, repeating: 0, count: stackBytes)
        frames = .allocate(capacity: 5 * Self.maxCallDepth)
        frames.initialize(repeating: 0, count: 5 * Self.maxCallDepth)
        counters = .allocate(capacity: 1)
        counters.initialize(to: 0)
        callState = .allocate(capacity: 2)
        callState.initialize(repeating: 0, count: 2)
    }

    deinit {
        code.deallocate()
        registers.deallocate()
        stack.deallocate()
        frames.deallocate()
        counters.deallocate()
        callState.deallocate()
    }

    /// Runs with r1 = the address of `memory` and r2 = its length; returns r0.
    public func run(memory: UnsafeMutableRawBufferPointer) throws(VMError) -> UInt64 {
        try execute(context: nil, input: memory)
    }

    /// Runs with r1 = `context`, r2 = 0 and `input` as the memory legacy packet loads read.
    public func run(context: UnsafeMutableRawPointer, input: UnsafeMutableRawBufferPointer) throws(VMError) -> UInt64 {
        try execute(context: context, input: input)
    }

    private func execute(context: UnsafeMutableRawPointer?, input: UnsafeMutableRawBufferPointer) throws(VMError) -> UInt64 {
        let r = registers
        for i in 0..<16 { r[i] = 0 }
        let stackTop = UInt64(UInt(bitPattern: stack)) &+ UInt64(Self.stackSize * Self.maxCallDepth)
        // No input means a null r1, whatever address an empty buffer happens to have.
        // Read once: the buffer's `count` is an out-of-line call in the standard library.
        let inputCount = input.count
        let inputLow = inputCount == 0 ? 0 : UInt64(UInt(bitPattern: input.baseAddress))
        if let context {
            r[1] = UInt64(UInt(bitPattern: context))
        } else {
            r[1] = inputLow
            r[2] = UInt64(inputCount)
        }
        r[10] = stackTop
        let initialBudget = options.instructionBudget
        var run = Run(pc: 0, depth: 0, baseDepth: 0, budget: initialBudget, mayGotoLeft: Self.mayGotoLimit)
        var granted = regions  // nil until a helper grants memory, unless the program has maps: no cost per run
        let fault = dispatch(&run, granted: &granted, inputLow: inputLow, inputCount: inputCount)
        counters.pointee = initialBudget - run.budget
        guard let fault else { return r[0] }
        throw fault.error(pc: run.pc, program: program,
                          stack: MemoryRegion(name: "stack", start: run.stackLow, count: Int(run.stackLength)),
                          input: (inputLow, inputCount), granted: granted, budget: initialBudget)
    }

    func startsInstruction(_ pc: Int) -> Bool {
        pc >= 0 && pc < codeCount - 1 && code[pc].op != .wideSecondHalf
    }

    func runCallback(at pc: Int, depth: Int, call: HelperCall) -> Result<UInt64, VMError> {
        var run = Run(pc: pc, depth: depth, baseDepth: depth, budget: callState[0], mayGotoLeft: callState[1])
        var granted = call.regions.pointee
        let fault = dispatch(&run, granted: &granted, inputLow: call.input.start, inputCount: call.input.count)
        callState[0] = run.budget
        callState[1] = run.mayGotoLeft
        call.regions.pointee = granted
        guard let fault else { return .success(registers[0]) }
        return .failure(fault.error(pc: run.pc, program: program,
                                    stack: MemoryRegion(name: "stack", start: run.stackLow, count: Int(run.stackLength)),
                                    input: call.input, granted: granted, budget: options.instructionBudget))
    }

    /// The dispatch loop, from `run.pc` in frame `run.depth` (r1–r5 and r10 set) until the
    /// frame `run.baseDepth` exits or a fault; leaves in `run` where it stopped. `granted` is
    /// the memory known at load time and what helpers granted.
    @inline(__always)
    private func dispatch(_ run: inout Run, granted: inout [MemoryRegion]?, inputLow: UInt64, inputCount: Int) -> RunFault? {
        let r = registers
        let callState = self.callState
        let stackTop = UInt64(UInt(bitPattern: stack)) &+ UInt64(Self.stackSize * Self.maxCallDepth)
        let inputLength = UInt64(inputCount)
        var stackLength = UInt64(Self.stackSize) &* UInt64(run.depth + 1)
        var stackLow = stackTop &- stackLength
        var depth = run.depth
        let baseDepth = run.baseDepth
        var budget = run.budget
        var mayGotoLeft = run.mayGotoLeft
        var fault: RunFault?
        let code = UnsafePointer(self.code)
        var ip = code + run.pc

        // Packet data is checked first, then the stack; helper memory only when both fail.
        @inline(__always) func accessible(_ address: UInt64, _ size: UInt64, _ stackLow: UInt64, _ stackLength: UInt64) -> Bool {
            let offset = address &- inputLow
            if offset < inputLength && inputLength &- offset >= size { return true }
            return address &- stackLow <= stackLength &- size   // the stack is never shorter than 8 bytes
        }

        dispatch: while true {
            let s = ip.pointee
            ip += 1
            if budget == 0 { fault = .budget; break }
            budget &-= 1
            let d = Int(s.dst)
            switch s.op {
            case .add64i: r[d] = r[d] &+ s.imm
            case .add64r: r[d] = r[d] &+ r[Int(s.src)]
            case .sub64i: r[d] = r[d] &- s.imm
            case .sub64r: r[d] = r[d] &- r[Int(s.src)]
            case .mul64i: r[d] = r[d] &* s.imm
            case .mul64r: r[d] = r[d] &* r[Int(s.src)]
            case .div64i: r[d] = udiv64(r[d], s.imm)
            case .div64r: r[d] = udiv64(r[d], r[Int(s.src)])
            case .sdiv64i: r[d] = sdiv64(r[d], s.imm)
            case .sdiv64r: r[d] = sdiv64(r[d], r[Int(s.src)])
            case .or64i: r[d] = r[d] | s.imm
            case .or64r: r[d] = r[d] | r[Int(s.src)]
            case .and64i: r[d] = r[d] & s.imm
            case .and64r: r[d] = r[d] & r[Int(s.src)]
            case .lsh64i: r[d] = r[d] &<< s.imm
            case .lsh64r: r[d] = r[d] &<< r[Int(s.src)]
            case .rsh64i: r[d] = r[d] &>> s.imm
            case .rsh64r: r[d] = r[d] &>> r[Int(s.src)]
            case .mod64i: r[d] = umod64(r[d], s.imm)
            case .mod64r: r[d] = umod64(r[d], r[Int(s.src)])
            case .smod64i: r[d] = smod64(r[d], s.imm)
            case .smod64r: r[d] = smod64(r[d], r[Int(s.src)])
            case .xor64i: r[d] = r[d] ^ s.imm
            case .xor64r: r[d] = r[d] ^ r[Int(s.src)]
            case .mov64i: r[d] = s.imm
            case .mov64r: r[d] = r[Int(s.src)]
            case .arsh64i: r[d] = arsh64(r[d], s.imm)
            case .arsh64r: r[d] = arsh64(r[d], r[Int(s.src)])

            case .add32i: r[d] = UInt64(low(r[d]) &+ low(s.imm))
            case .add32r: r[d] = UInt64(low(r[d]) &+ low(r[Int(s.src)]))
            case .sub32i: r[d] = UInt64(low(r[d]) &- low(s.imm))
            case .sub32r: r[d] = UInt64(low(r[d]) &- low(r[Int(s.src)]))
            case .mul32i: r[d] = UInt64(low(r[d]) &* low(s.imm))
            case .mul32r: r[d] = UInt64(low(r[d]) &* low(r[Int(s.src)]))
            case .div32i: r[d] = udiv32(r[d], s.imm)
            case .div32r: r[d] = udiv32(r[d], r[Int(s.src)])
            case .sdiv32i: r[d] = sdiv32(r[d], s.imm)
            case .sdiv32r: r[d] = sdiv32(r[d], r[Int(s.src)])
            case .or32i: r[d] = UInt64(low(r[d]) | low(s.imm))
            case .or32r: r[d] = UInt64(low(r[d]) | low(r[Int(s.src)]))
            case .and32i: r[d] = UInt64(low(r[d]) & low(s.imm))
            case .and32r: r[d] = UInt64(low(r[d]) & low(r[Int(s.src)]))
            case .lsh32i: r[d] = UInt64(low(r[d]) &<< low(s.imm))
            case .lsh32r: r[d] = UInt64(low(r[d]) &<< low(r[Int(s.src)]))
            case .rsh32i: r[d] = UInt64(low(r[d]) &>> low(s.imm))
            case .rsh32r: r[d] = UInt64(low(r[d]) &>> low(r[Int(s.src)]))
            case .mod32i: r[d] = umod32(r[d], s.imm)
            case .mod32r: r[d] = umod32(r[d], r[Int(s.src)])
            case .smod32i: r[d] = smod32(r[d], s.imm)
            case .smod32r: r[d] = smod32(r[d], r[Int(s.src)])
            case .xor32i: r[d] = UInt64(low(r[d]) ^ low(s.imm))
            case .xor32r: r[d] = UInt64(low(r[d]) ^ low(r[Int(s.src)]))
            case .mov32i: r[d] = UInt64(low(s.imm))
            case .mov32r: r[d] = UInt64(low(r[Int(s.src)]))
            case .arsh32i: r[d] = arsh32(r[d], s.imm)
            case .arsh32r: r[d] = arsh32(r[d], r[Int(s.src)])

            case .neg64: r[d] = 0 &- r[d]
            case .neg32: r[d] = UInt64(0 &- low(r[d]))
            case .movsx64b: r[d] = UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: r[Int(s.src)])))
            case .movsx64h: r[d] = UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: r[Int(s.src)])))
            case .movsx64w: r[d] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: r[Int(s.src)])))
            case .movsx32b: r[d] = UInt64(UInt32(bitPattern: Int32(Int8(truncatingIfNeeded: r[Int(s.src)]))))
            case .movsx32h: r[d] = UInt64(UInt32(bitPattern: Int32(Int16(truncatingIfNeeded: r[Int(s.src)]))))
            case .zext16: r[d] = r[d] & 0xffff
            case .zext32: r[d] = r[d] & 0xffff_ffff
            case .nop: break
            case .bswap16: r[d] = UInt64(UInt16(truncatingIfNeeded: r[d]).byteSwapped)
            case .bswap32: r[d] = UInt64(UInt32(truncatingIfNeeded: r[d]).byteSwapped)
            case .bswap64: r[d] = r[d].byteSwapped

            case .ldxb:
                let a = r[Int(s.src)] &+ s.imm
                guard accessible(a, 1, stackLow, stackLength) || grantedContains(granted, a, 1, false) else { fault = .outOfBounds(address: a, size: 1, isWrite: false); break dispatch }
                r[d] = UInt64(pointer(a).load(as: UInt8.self))
            case .ldxh:
                let a = r[Int(s.src)] &+ s.imm
                guard accessible(a, 2, stackLow, stackLength) || grantedContains(granted, a, 2, false) else { fault = .outOfBounds(address: a, size: 2, isWrite: false); break dispatch }
                r[d] = UInt64(pointer(a).loadUnaligned(as: UInt16.self))
            case .ldxw:
                let a = r[Int(s.src)] &+ s.imm
                guard accessible(a, 4, stackLow, stackLength) || grantedContains(granted, a, 4, false) else { fault = .outOfBounds(address: a, size: 4, isWrite: false); break dispatch }
                r[d] = UInt64(pointer(a).loadUnaligned(as: UInt32.self))
            case .ldxdw:
                let a = r[Int(s.src)] &+ s.imm
                guard accessible(a, 8, stackLow, stackLength) || grantedContains(granted, a, 8, false) else { fault = .outOfBounds(address: a, size: 8, isWrite: false); break dispatch }
                r[d] = pointer(a).loadUnaligned(as: UInt64.self)
            case .ldxsb:
                let a = r[Int(s.src)] &+ s.imm
                guard accessible(a, 1, stackLow, stackLength) || grantedContains(granted, a, 1, false) else { fault = .outOfBounds(address: a, size: 1, isWrite: false); break dispatch }
                r[d] = UInt64(bitPattern: Int64(pointer(a).load(as: Int8.self)))
            case .ldxsh:
                let a = r[Int(s.src)] &+ s.imm
                guard accessible(a, 2, stackLow, stackLength) || grantedContains(granted, a, 2, false) else { fault = .outOfBounds(address: a, size: 2, isWrite: false); break dispatch }
                r[d] = UInt64(bitPattern: Int64(pointer(a).loadUnaligned(as: Int16.self)))
            case .ldxsw:
                let a = r[Int(s.src)] &+ s.imm
                guard accessible(a, 4, stackLow, stackLength) || grantedContains(granted, a, 4, false) else { fault = .outOfBounds(address: a, size: 4, isWrite: false); break dispatch }
                r[d] = UInt64(bitPattern: Int64(pointer(a).loadUnaligned(as: Int32.self)))

            case .stb:
                let a = r[d] &+ UInt64(bitPattern: Int64(s.target))
                guard accessible(a, 1, stackLow, stackLength) || grantedContains(granted, a, 1, true) else { fault = .outOfBounds(address: a, size: 1, isWrite: true); break dispatch }
                pointer(a).storeBytes(of: UInt8(truncatingIfNeeded: s.imm), as: UInt8.self)
            case .sth:
                let a = r[d] &+ UInt64(bitPattern: Int64(s.target))
                guard accessible(a, 2, stackLow, stackLength) || grantedContains(granted, a, 2, true) else { fault = .outOfBounds(address: a, size: 2, isWrite: true); break dispatch }
                pointer(a).storeBytes(of: UInt16(truncatingIfNeeded: s.imm), as: UInt16.self)
            case .stw:
                let a = r[d] &+ UInt64(bitPattern: Int64(s.target))
                guard accessible(a, 4, stackLow, stackLength) || grantedContains(granted, a, 4, true) else { fault = .outOfBounds(address: a, size: 4, isWrite: true); break dispatch }
                pointer(a).storeBytes(of: UInt32(truncatingIfNeeded: s.imm), as: UInt32.self)
            case .stdw:
                let a = r[d] &+ UInt64(bitPattern: Int64(s.target))
                guard accessible(a, 8, stackLow, stackLength) || grantedContains(granted, a, 8, true) else { fault = .outOfBounds(address: a, size: 8, isWrite: true); break dispatch }
                pointer(a).storeBytes(of: s.imm, as: UInt64.self)
            case .stxb:
                let a = r[d] &+ s.imm
                guard accessible(a, 1, stackLow, stackLength) || grantedContains(granted, a, 1, true) else { fault = .outOfBounds(address: a, size: 1, isWrite: true); break dispatch }
                pointer(a).storeBytes(of: UInt8(truncatingIfNeeded: r[Int(s.src)]), as: UInt8.self)
            case .stxh:
                let a = r[d] &+ s.imm
                guard accessible(a, 2, stackLow, stackLength) || grantedContains(granted, a, 2, true) else { fault = .outOfBounds(address: a, size: 2, isWrite: true); break dispatch }
                pointer(a).storeBytes(of: UInt16(truncatingIfNeeded: r[Int(s.src)]), as: UInt16.self)
            case .stxw:
                let a = r[d] &+ s.imm
                guard accessible(a, 4, stackLow, stackLength) || grantedContains(granted, a, 4, true) else { fault = .outOfBounds(address: a, size: 4, isWrite: true); break dispatch }
                pointer(a).storeBytes(of: UInt32(truncatingIfNeeded: r[Int(s.src)]), as: UInt32.self)
            case .stxdw:
                let a = r[d] &+ s.imm
                guard accessible(a, 8, stackLow, stackLength) || grantedContains(granted, a, 8, true) else { fault = .outOfBounds(address: a, size: 8, isWrite: true); break dispatch }
                pointer(a).storeBytes(of: r[Int(s.src)], as: UInt64.self)

            case .atomicAdd32, .atomicOr32, .atomicAnd32, .atomicXor32, .atomicFetchAdd32, .atomicFetchOr32,
                 .atomicFetchAnd32, .atomicFetchXor32, .atomicXchg32, .atomicCmpxchg32:
                let a = r[d] &+ s.imm
                guard accessible(a, 4, stackLow, stackLength) || grantedContains(granted, a, 4, true) else { fault = .outOfBounds(address: a, size: 4, isWrite: true); break dispatch }
                atomic32(s.op, pointer(a), r, Int(s.src))
            case .atomicAdd64, .atomicOr64, .atomicAnd64, .atomicXor64, .atomicFetchAdd64, .atomicFetchOr64,
                 .atomicFetchAnd64, .atomicFetchXor64, .atomicXchg64, .atomicCmpxchg64:
                let a = r[d] &+ s.imm
                guard accessible(a, 8, stackLow, stackLength) || grantedContains(granted, a, 8, true) else { fault = .outOfBounds(address: a, size: 8, isWrite: true); break dispatch }
                atomic64(s.op, pointer(a), r, Int(s.src))

            case .lddw:
                r[d] = s.imm
                ip += 1
            case .ldabsb, .ldabsh, .ldabsw, .ldindb, .ldindh, .ldindw:
                // Classic BPF semantics: a load outside the packet ends the program with 0.
                guard let value = packetLoad(s, r, inputLow, inputCount) else { r[0] = 0; break dispatch }
                r[0] = value

            case .ja: ip = code + Int(s.target)
            case .jeq64i: if r[d] == s.imm { ip = code + Int(s.target) }
            case .jeq64r: if r[d] == r[Int(s.src)] { ip = code + Int(s.target) }
            case .jgt64i: if r[d] > s.imm { ip = code + Int(s.target) }
            case .jgt64r: if r[d] > r[Int(s.src)] { ip = code + Int(s.target) }
            case .jge64i: if r[d] >= s.imm { ip = code + Int(s.target) }
            case .jge64r: if r[d] >= r[Int(s.src)] { ip = code + Int(s.target) }
            case .jset64i: if r[d] & s.imm != 0 { ip = code + Int(s.target) }
            case .jset64r: if r[d] & r[Int(s.src)] != 0 { ip = code + Int(s.target) }
            case .jne64i: if r[d] != s.imm { ip = code + Int(s.target) }
            case .jne64r: if r[d] != r[Int(s.src)] { ip = code + Int(s.target) }
            case .jsgt64i: if signed(r[d]) > signed(s.imm) { ip = code + Int(s.target) }
            case .jsgt64r: if signed(r[d]) > signed(r[Int(s.src)]) { ip = code + Int(s.target) }
            case .jsge64i: if signed(r[d]) >= signed(s.imm) { ip = code + Int(s.target) }
            case .jsge64r: if signed(r[d]) >= signed(r[Int(s.src)]) { ip = code + Int(s.target) }
            case .jlt64i: if r[d] < s.imm { ip = code + Int(s.target) }
            case .jlt64r: if r[d] < r[Int(s.src)] { ip = code + Int(s.target) }
            case .jle64i: if r[d] <= s.imm { ip = code + Int(s.target) }
            case .jle64r: if r[d] <= r[Int(s.src)] { ip = code + Int(s.target) }
            case .jslt64i: if signed(r[d]) < signed(s.imm) { ip = code + Int(s.target) }
            case .jslt64r: if signed(r[d]) < signed(r[Int(s.src)]) { ip = code + Int(s.target) }
            case .jsle64i: if signed(r[d]) <= signed(s.imm) { ip = code + Int(s.target) }
            case .jsle64r: if signed(r[d]) <= signed(r[Int(s.src)]) { ip = code + Int(s.target) }

            case .jeq32i: if low(r[d]) == low(s.imm) { ip = code + Int(s.target) }
            case .jeq32r: if low(r[d]) == low(r[Int(s.src)]) { ip = code + Int(s.target) }
            case .jgt32i: if low(r[d]) > low(s.imm) { ip = code + Int(s.target) }
            case .jgt32r: if low(r[d]) > low(r[Int(s.src)]) { ip = code + Int(s.target) }
            case .jge32i: if low(r[d]) >= low(s.imm) { ip = code + Int(s.target) }
            case .jge32r: if low(r[d]) >= low(r[Int(s.src)]) { ip = code + Int(s.target) }
            case .jset32i: if low(r[d]) & low(s.imm) != 0 { ip = code + Int(s.target) }
            case .jset32r: if low(r[d]) & low(r[Int(s.src)]) != 0 { ip = code + Int(s.target) }
            case .jne32i: if low(r[d]) != low(s.imm) { ip = code + Int(s.target) }
            case .jne32r: if low(r[d]) != low(r[Int(s.src)]) { ip = code + Int(s.target) }
            case .jsgt32i: if signed32(r[d]) > signed32(s.imm) { ip = code + Int(s.target) }
            case .jsgt32r: if signed32(r[d]) > signed32(r[Int(s.src)]) { ip = code + Int(s.target) }
            case .jsge32i: if signed32(r[d]) >= signed32(s.imm) { ip = code + Int(s.target) }
            case .jsge32r: if signed32(r[d]) >= signed32(r[Int(s.src)]) { ip = code + Int(s.target) }
            case .jlt32i: if low(r[d]) < low(s.imm) { ip = code + Int(s.target) }
            case .jlt32r: if low(r[d]) < low(r[Int(s.src)]) { ip = code + Int(s.target) }
            case .jle32i: if low(r[d]) <= low(s.imm) { ip = code + Int(s.target) }
            case .jle32r: if low(r[d]) <= low(r[Int(s.src)]) { ip = code + Int(s.target) }
            case .jslt32i: if signed32(r[d]) < signed32(s.imm) { ip = code + Int(s.target) }
            case .jslt32r: if signed32(r[d]) < signed32(r[Int(s.src)]) { ip = code + Int(s.target) }
            case .jsle32i: if signed32(r[d]) <= signed32(s.imm) { ip = code + Int(s.target) }
            case .jsle32r: if signed32(r[d]) <= signed32(r[Int(s.src)]) { ip = code + Int(s.target) }

            case .call, .callRegister:
                let index: Int32
                if s.op == .call {
                    index = s.target
                } else if let id = Int32(exactly: r[d]), let found = helpers.index[id] {
                    index = found
                } else {
                    index = -1
                }
                guard index >= 0 else {
                    fault = .unknownHelper(s.op == .call ? Int64(bitPattern: s.imm) : Int64(bitPattern: r[d]))
                    break dispatch
                }
                callState[0] = budget
                callState[1] = mayGotoLeft
                let result = callHelper(Int(index), live: (stackLow, Int(stackLength)), input: (inputLow, inputCount), granted: &granted)
                budget = callState[0]
                mayGotoLeft = callState[1]
                switch result {
                case .success(let (value, stops)):
                    r[0] = value
                    if stops { break dispatch }
                case .failure(let error):
                    fault = .helper(error)
                    break dispatch
                }
            case .callLocal:
                guard depth < Self.maxCallDepth - 1 else { fault = .callDepth; break dispatch }
                let frame = frames + depth * 5
                frame[0] = UInt64(ip - code)
                frame[1] = r[6]; frame[2] = r[7]; frame[3] = r[8]; frame[4] = r[9]
                depth += 1
                r[10] = stackLow
                stackLow &-= UInt64(Self.stackSize)
                stackLength &+= UInt64(Self.stackSize)
                ip = code + Int(s.target)
            case .exit:
                if depth == baseDepth { break dispatch }
                depth -= 1
                let frame = frames + depth * 5
                ip = code + Int(frame[0])
                r[6] = frame[1]; r[7] = frame[2]; r[8] = frame[3]; r[9] = frame[4]
                stackLow &+= UInt64(Self.stackSize)
                stackLength &-= UInt64(Self.stackSize)
                r[10] = stackLow &+ UInt64(Self.stackSize)
            case .mayGoto:
                if mayGotoLeft == 0 { ip = code + Int(s.target) } else { mayGotoLeft -= 1 }
            case .callKernelFunction:
                fault = .kernelFunction(Int64(bitPattern: s.imm))
                break dispatch
            case .wideSecondHalf, .end:
                fault = .ranOffTheEnd
                break dispatch
            }
        }

        run.pc = ip - code - 1
        run.depth = depth
        run.budget = budget
        run.mayGotoLeft = mayGotoLeft
        run.stackLow = stackLow
        run.stackLength = stackLength
        return fault
    }

    /// Runs helper `index` outside the hot loop; returns its value and whether it ends the program.
    @inline(never)
    private func callHelper(_ index: Int, live: (start: UInt64, count: Int), input: (start: UInt64, count: Int),
                            granted: inout [MemoryRegion]?) -> Result<(UInt64, Bool), VMError> {
        withUnsafeMutablePointer(to: &granted) { helpers.call(index, registers: registers, stack: live, input: input, regions: $0, runner: .interpreter(Unmanaged.passUnretained(self))) }
    }
}

@inline(__always) private func low(_ value: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: value) }
@inline(__always) private func signed(_ value: UInt64) -> Int64 { Int64(bitPattern: value) }
@inline(__always) private func signed32(_ value: UInt64) -> Int32 { Int32(truncatingIfNeeded: value) }

/// Only called after a bounds check, so the address is never null.
@inline(__always) private func pointer(_ address: UInt64) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: UInt(address)).unsafelyUnwrapped
}

@inline(never)
func grantedContains(_ regions: [MemoryRegion]?, _ address: UInt64, _ size: Int, _ isWrite: Bool) -> Bool {
    regions?.contains { $0.contains(address, size: size) && (!isWrite || $0.isWritable) } ?? false
}

// Division and modulo as RFC 9669 defines them: never a trap.
@inline(__always) private func udiv64(_ a: UInt64, _ b: UInt64) -> UInt64 { b == 0 ? 0 : a / b }
@inline(__always) private func umod64(_ a: UInt64, _ b: UInt64) -> UInt64 { b == 0 ? a : a % b }
@inline(__always) private func udiv32(_ a: UInt64, _ b: UInt64) -> UInt64 {
    low(b) == 0 ? 0 : UInt64(low(a) / low(b))
}
@inline(__always) private func umod32(_ a: UInt64, _ b: UInt64) -> UInt64 {
    low(b) == 0 ? UInt64(low(a)) : UInt64(low(a) % low(b))
}
@inline(__always) private func sdiv64(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let n = signed(a), d = signed(b)
    if d == 0 { return 0 }
    if d == -1 { return UInt64(bitPattern: 0 &- n) }
    return UInt64(bitPattern: n / d)
}
@inline(__always) private func smod64(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let n = signed(a), d = signed(b)
    if d == 0 { return a }
    if d == -1 { return 0 }
    return UInt64(bitPattern: n % d)
}
@inline(__always) private func sdiv32(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let n = signed32(a), d = signed32(b)
    if d == 0 { return 0 }
    if d == -1 { return UInt64(UInt32(bitPattern: 0 &- n)) }
    return UInt64(UInt32(bitPattern: n / d))
}
@inline(__always) private func smod32(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let n = signed32(a), d = signed32(b)
    if d == 0 { return UInt64(low(a)) }
    if d == -1 { return 0 }
    return UInt64(UInt32(bitPattern: n % d))
}
@inline(__always) private func arsh64(_ a: UInt64, _ b: UInt64) -> UInt64 {
    UInt64(bitPattern: signed(a) &>> Int64(b & 63))
}
@inline(__always) private func arsh32(_ a: UInt64, _ b: UInt64) -> UInt64 {
    UInt64(UInt32(bitPattern: signed32(a) &>> Int32(b & 31)))
}

/// Legacy packet loads read the input in network byte order; nil when out of range.
@inline(never)
private func packetLoad(_ s: Slot, _ r: UnsafeMutablePointer<UInt64>, _ packetStart: UInt64, _ packetCount: Int) -> UInt64? {
    var offset = Int64(bitPattern: s.imm)
    if s.op == .ldindb || s.op == .ldindh || s.op == .ldindw { offset &+= Int64(Int32(truncatingIfNeeded: r[Int(s.src)])) }
    let size: Int64 = switch s.op { case .ldabsb, .ldindb: 1; case .ldabsh, .ldindh: 2; default: 4 }
    guard offset >= 0, offset <= Int64(packetCount) - size else { return nil }
    let at = pointer(packetStart &+ UInt64(offset))
    switch size {
    case 1: return UInt64(at.load(as: UInt8.self))
    case 2: return UInt64(UInt16(bigEndian: at.loadUnaligned(as: UInt16.self)))
    default: return UInt64(UInt32(bigEndian: at.loadUnaligned(as: UInt32.self)))
    }
}

/// Atomic instructions are atomic across threads: maps are shared by the runs of several
/// threads, as in the kernel. Misaligned addresses (which the verifier refuses) fall back to
/// a plain read-modify-write, atomic only as far as this run can observe.
@inline(never)
private func atomic32(_ op: Op, _ at: UnsafeMutableRawPointer, _ r: UnsafeMutablePointer<UInt64>, _ src: Int) {
    let value = low(r[src])
    let old: UInt32
    if UInt(bitPattern: at) & 3 == 0 {
        let atomic = at.assumingMemoryBound(to: Atomic<UInt32>.self)
        switch op {
        case .atomicAdd32, .atomicFetchAdd32: old = atomic.pointee.wrappingAdd(value, ordering: .sequentiallyConsistent).oldValue
        case .atomicOr32, .atomicFetchOr32: old = atomic.pointee.bitwiseOr(value, ordering: .sequentiallyConsistent).oldValue
        case .atomicAnd32, .atomicFetchAnd32: old = atomic.pointee.bitwiseAnd(value, ordering: .sequentiallyConsistent).oldValue
        case .atomicXor32, .atomicFetchXor32: old = atomic.pointee.bitwiseXor(value, ordering: .sequentiallyConsistent).oldValue
        case .atomicXchg32: old = atomic.pointee.exchange(value, ordering: .sequentiallyConsistent)
        default:
            r[0] = UInt64(atomic.pointee.compareExchange(expected: low(r[0]), desired: value, ordering: .sequentiallyConsistent).original)
            return
        }
    } else {
        old = at.loadUnaligned(as: UInt32.self)
        switch op {
        case .atomicAdd32, .atomicFetchAdd32: at.storeBytes(of: old &+ value, as: UInt32.self)
        case .atomicOr32, .atomicFetchOr32: at.storeBytes(of: old | value, as: UInt32.self)
        case .atomicAnd32, .atomicFetchAnd32: at.storeBytes(of: old & value, as: UInt32.self)
        case .atomicXor32, .atomicFetchXor32: at.storeBytes(of: old ^ value, as: UInt32.self)
        case .atomicXchg32: at.storeBytes(of: value, as: UInt32.self)
        default:
            if old == low(r[0]) { at.storeBytes(of: value, as: UInt32.self) }
            r[0] = UInt64(old)
            return
        }
    }
    switch op {
    case .atomicFetchAdd32, .atomicFetchOr32, .atomicFetchAnd32, .atomicFetchXor32, .atomicXchg32: r[src] = UInt64(old)
    default: break
    }
}

@inline(never)
private func atomic64(_ op: Op, _ at: UnsafeMutableRawPointer, _ r: UnsafeMutablePointer<UInt64>, _ src: Int) {
    let value = r[src]
    let old: UInt64
    if UInt(bitPattern: at) & 7 == 0 {
        let atomic = at.assumingMemoryBound(to: Atomic<UInt64>.self)
        switch op {
        case .atomicAdd64, .atomicFetchAdd64: old = atomic.pointee.wrappingAdd(value, ordering: .sequentiallyConsistent).oldValue
        case .atomicOr64, .atomicFetchOr64: old = atomic.pointee.bitwiseOr(value, ordering: .sequentiallyConsistent).oldValue
        case .atomicAnd64, .atomicFetchAnd64: old = atomic.pointee.bitwiseAnd(value, ordering: .sequentiallyConsistent).oldValue
        case .atomicXor64, .atomicFetchXor64: old = atomic.pointee.bitwiseXor(value, ordering: .sequentiallyConsistent).oldValue
        case .atomicXchg64: old = atomic.pointee.exchange(value, ordering: .sequentiallyConsistent)
        default:
            r[0] = atomic.pointee.compareExchange(expected: r[0], desired: value, ordering: .sequentiallyConsistent).original
            return
        }
    } else {
        old = at.loadUnaligned(as: UInt64.self)
        switch op {
        case .atomicAdd64, .atomicFetchAdd64: at.storeBytes(of: old &+ value, as: UInt64.self)
        case .atomicOr64, .atomicFetchOr64: at.storeBytes(of: old | value, as: UInt64.self)
        case .atomicAnd64, .atomicFetchAnd64: at.storeBytes(of: old & value, as: UInt64.self)
        case .atomicXor64, .atomicFetchXor64: at.storeBytes(of: old ^ value, as: UInt64.self)
        case .atomicXchg64: at.storeBytes(of: value, as: UInt64.self)
        default:
            if old == r[0] { at.storeBytes(of: value, as: UInt64.self) }
            r[0] = old
            return
        }
    }
    switch op {
    case .atomicFetchAdd64, .atomicFetchOr64, .atomicFetchAnd64, .atomicFetchXor64, .atomicXchg64: r[src] = old
    default: break
    }
}
