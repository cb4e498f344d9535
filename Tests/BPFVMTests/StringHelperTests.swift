@testable import BPFVM
import BPFInstructions
import Synchronization
import Testing

/// trace_printk to the host's sink, snprintf, strncmp, and the helpers that read the host's
/// environment (time, random numbers, processor, task).
@Suite struct StringHelperTests {
    @Test(arguments: EngineKind.allCases)
    func formattingAndComparing(_ engine: EngineKind) throws {
        let lines = Mutex<[String]>([])
        let host = HostEnvironment(task: .init(pid: 7, tgid: 5, comm: "server"), trace: { line in lines.withLock { $0.append(line) } },
                                   clock: { 123_456 }, processor: 1, randomSeed: 42)
        let object = try ObjectFixtures.load("strings", engine: engine, host: host)
        let frame = ObjectFixtures.udpFrame()
        #expect(try object.program(named: "strings").run(packet: frame).verdict == 2)
        let expected = "len=\(frame.count) x=ff s=vm"
        #expect(lines.withLock { $0 } == [expected])
        #expect(try object.integer("printed") == Int64(expected.utf8.count))
        let text = "42-beef--0012|vm |"
        #expect(try object.integer("formatted") == Int64(text.utf8.count + 1))
        #expect(Array(try object.global(named: "text")[0..<text.utf8.count + 1]) == Array(text.utf8) + [0])
        #expect(try object.integer("bad_format") == -22)
        #expect(try object.integer("equal") == 0)
        #expect(try object.integer("less") == -1)
        #expect(try object.integer("greater") == 1)
        #expect(try object.integer("pid_tgid") == 5 << 32 | 7)
        #expect(try object.integer("now") == 123_456)
        #expect(try object.integer("processor") == 1)
        let random = RandomState(seed: 42)
        #expect(UInt32(truncatingIfNeeded: try object.integer("random1")) == random.next())
        #expect(UInt32(truncatingIfNeeded: try object.integer("random2")) == random.next())
    }

    /// The task helpers tracing programs call, in the interpreter without a verifier (XDP
    /// may not call two of them): values from the host's task; -EINVAL and a zeroed buffer
    /// without one; a comm cut to the buffer.
    @Test func taskHelpers() throws {
        let withTask = HostEnvironment(task: .init(pid: 10, tgid: 20, uid: 1000, gid: 100, comm: "a-very-long-command-name"))
        let helpers = KernelHelpers.environmentHelpers(withTask, random: RandomState(seed: 1))
        let uidGid = try Assembler.assemble("call 15\nexit", syntax: .kernel)
        #expect(try Interpreter(program: uidGid, helpers: helpers).run() == 100 << 32 | 1000)
        // comm into an 8-byte stack buffer, then r0 = its first 8 bytes.
        let comm = try Assembler.assemble("""
            r1 = r10
            r1 += -8
            r2 = 8
            call 16
            r0 = *(u64 *)(r10 - 8)
            exit
            """, syntax: .kernel)
        let bytes = try Interpreter(program: comm, helpers: helpers).run()
        #expect(withUnsafeBytes(of: bytes.littleEndian) { Array($0) } == Array("a-very-".utf8) + [0])
        let noTask = KernelHelpers.environmentHelpers(HostEnvironment(), random: RandomState(seed: 1))
        #expect(try Interpreter(program: uidGid, helpers: noTask).run() == UInt64(bitPattern: -22))
        // A buffer outside the program's memory is the program's error, named.
        let wild = try Assembler.assemble("r1 = 16\nr2 = 8\ncall 16\nexit", syntax: .kernel)
        let error = #expect(throws: VMError.self) { try Interpreter(program: wild, helpers: helpers).run() }
        #expect(error?.kind == .outOfBounds(address: 16, size: 8, isWrite: true))
    }
}
