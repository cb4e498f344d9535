#if os(Linux)
@testable import BPFTools
import Testing

/// The user-space half of the tools without the kernel: records decoded at the C structs'
/// offsets, short records refused, and lines laid out as bcc lays them out.
struct EventDecodingTests {
    @Test func shortRecordIsAnErrorNamingTheSizes() throws {
        let bytes: [UInt8] = Array(repeating: 0, count: 12)
        #expect(throws: ToolError.self) {
            _ = try bytes.withUnsafeBytes { raw throws(ToolError) in try ExecSnoop.decode(raw) }
        }
        do {
            _ = try bytes.withUnsafeBytes { raw throws(ToolError) in try OpenSnoop.decode(raw) }
            Issue.record("a 12-byte open event was accepted")
        } catch let error as ToolError {
            #expect(error.description == "opensnoop: the kernel sent a 12-byte event; the program writes at least 48")
        }
    }

    @Test func execArgumentsStopAtTheirCount() throws {
        var bytes = [UInt8](repeating: 0, count: 48)
        func put(_ value: UInt32, at offset: Int) { withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<offset + 4, with: $0) } }
        let arguments = Array("ls\u{0}-l\u{0}/tmp\u{0}".utf8)
        put(42, at: 0)
        put(7, at: 4)
        put(2, at: 16)          // two arguments read
        put(UInt32(arguments.count), at: 20)
        bytes.replaceSubrange(32..<34, with: Array("ls".utf8))
        bytes += arguments
        let event = try bytes.withUnsafeBytes { raw throws(ToolError) in try ExecSnoop.decode(raw) }
        #expect(event.pid == 42 && event.ppid == 7 && event.command == "ls")
        #expect(event.arguments == ["ls", "-l"])
    }

    @Test func exitCodesAndSignalsAreDescribedAsBccDoes() {
        func event(_ status: Int32) -> ExitSnoop.Event {
            ExitSnoop.Event(pid: 1, tid: 1, ppid: 0, age: 1_500_000_000, status: status, command: "sh")
        }
        #expect(ExitSnoop.exitDescription(event(0)) == "0")
        #expect(ExitSnoop.exitDescription(event(3 << 8)) == "code 3")
        #expect(ExitSnoop.exitDescription(event(9)) == "signal 9 (KILL)")
        #expect(ExitSnoop.exitDescription(event(11 | 0x80)) == "signal 11 (SEGV), core dumped")
        #expect(ExitSnoop.line(event(0), time: nil) == "sh               1       0       1       1.50    0")
    }

    @Test func openLinesHaveBccColumns() {
        let event = OpenSnoop.Event(timestamp: 0, pid: 12, tid: 13, uid: 0, returnValue: -2, flags: 0o2000000, mode: 0,
                                    command: "cat", path: "/nonexistent")
        #expect(OpenSnoop.header(.init(flags: true)) == "PID    COMM               FD ERR FLAGS    PATH")
        #expect(OpenSnoop.line(event, .init(flags: true), seconds: 0) == "12     cat                -1   2 02000000 /nonexistent")
        #expect(fixed(1.5, digits: 9) == "1.500000000")
        #expect(fixed(0.004, digits: 2) == "0.00")
    }
}
#endif
