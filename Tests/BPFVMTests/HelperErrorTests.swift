import BPFInstructions
@testable import BPFVM
import Testing

/// What the helpers refuse when a program (run unverified, in the checked interpreter)
/// hands them something that is not theirs: each stops the run with an error naming the
/// helper and the argument, never touching memory it should not.
@Suite struct HelperErrorTests {
    static func helpers(_ layout: PacketContextLayout) -> [Helper] {
        KernelHelpers.helpers(maps: MapTable([]), frame: PacketFrame(layout: layout), tailCalls: TailCalls(), host: HostEnvironment())
    }

    static func failure(_ source: String, _ layout: PacketContextLayout = .xdp) throws -> VMError? {
        let program = try Assembler.assemble(source, syntax: .kernel)
        return #expect(throws: VMError.self) { try Interpreter(program: program, helpers: helpers(layout)).run() }
    }

    @Test func argumentsThatAreNotTheHelpers() throws {
        let notMap = try Self.failure("r1 = 5\nr2 = r10\nr2 += -8\ncall 1\nexit")
        #expect(notMap?.description == "pc 3 (call 1): helper 1 failed: argument 1 (r1) 0x5 is not a map")
        let notContext = try Self.failure("r1 = r10\nr2 = 4\ncall 44\nexit")
        #expect(notContext?.description.hasSuffix("is not the program's context") == true)
        let notContextSocket = try Self.failure("r1 = 0\nr2 = 0\nr3 = r10\nr3 += -8\nr4 = 4\ncall 26\nexit", .trafficControl)
        #expect(notContextSocket?.description.hasSuffix("is not the program's context") == true)
        let notRecord = try Self.failure("r1 = 4096\nr2 = 0\ncall 132\nexit")
        #expect(notRecord?.description == "pc 2 (call 132): helper 132 failed: argument 1 (r1) 0x1000 is not a ring buffer record")
        let notProgramArray = try Self.failure("r2 = 0\ncall 12\nexit")
        #expect(notProgramArray?.description.hasSuffix("is not the program's context") == true)
        // Memory outside the program's regions: the helper's access fails like the program's own.
        let outside = try Self.failure("r1 = 64\nr2 = 16\nr3 = 0\nr4 = 0\nr5 = 0\ncall 28\nexit")
        #expect(outside?.kind == .outOfBounds(address: 64, size: 16, isWrite: false))
        let hugeSize = try Self.failure("r1 = r10\nr1 += -8\nr2 = 1\nr2 <<= 40\ncall 16\nexit")
        #expect(hugeSize?.description.hasSuffix("the size 1099511627776 does not fit in 32 bits") == true)
        // An unterminated format is the program's -EINVAL, not a failure.
        let unterminated = try Assembler.assemble("""
            r1 = 0x4141414141414141 ll
            *(u64 *)(r10 - 8) = r1
            r1 = r10
            r1 += -8
            r2 = 8
            call 6
            exit
            """, syntax: .kernel)
        #expect(try Interpreter(program: unterminated, helpers: Self.helpers(.xdp)).run() == UInt64(bitPattern: -22))
    }
}
