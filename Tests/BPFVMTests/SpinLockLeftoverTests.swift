import BPFInstructions
@testable import BPFVM
import Synchronization
import Testing

/// A run that stops while it holds a spin lock (here a fault in the checked interpreter)
/// leaves the lock word taken; the loaded program releases it after the run, or every later
/// run on that value would wait forever.
@Suite struct SpinLockLeftoverTests {
    @Test func aStoppedRunsLockIsReleasedAfterIt() throws {
        let value = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 8)
        defer { value.deallocate() }
        value.initializeMemory(as: UInt8.self, repeating: 0)
        let address = UInt(bitPattern: value.baseAddress)
        let holding = SpinLockHolding()
        let helpers = KernelHelpers.helpers(maps: MapTable([]), frame: nil, tailCalls: TailCalls(), host: HostEnvironment(),
                                            spinLocks: holding)
        // Takes the lock, then reads through the helper's 0 in r0: a fault with the lock held.
        let program = try Assembler.assemble("r1 = \(address) ll\ncall 93\nr0 = *(u64 *)(r0 + 0)\nexit", syntax: .kernel)
        let interpreter = try Interpreter(program: program, helpers: helpers, regions: [MemoryRegion(name: "value", buffer: value)])
        #expect(throws: VMError.self) { try interpreter.run() }
        #expect(value.load(as: UInt32.self) == 1, "the lock is still taken after the fault")
        holding.releaseLeftover()
        #expect(value.load(as: UInt32.self) == 0)
        #expect(holding.word == nil)

        // Locked and unlocked by the program: nothing is left to release.
        let paired = try Assembler.assemble("r1 = \(address) ll\ncall 93\nr1 = \(address) ll\ncall 94\nr0 = 0\nexit", syntax: .kernel)
        #expect(try Interpreter(program: paired, helpers: helpers, regions: [MemoryRegion(name: "value", buffer: value)]).run() == 0)
        #expect(holding.word == nil && value.load(as: UInt32.self) == 0)
    }
}
