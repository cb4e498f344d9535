#if os(Linux)
@testable import BPFTools
import Foundation
import Glibc
import Testing

extension BPFToolsKernelTests {
    /// syscount on the real kernel: calls this process makes a known number of times show up
    /// under their names, with time when asked, and errors filtered by errno.
    @Suite struct SyscountTests {
        @Test func countsThisProcessCallsByName() throws {
            try ToolTests.run {
                let counter = try SyscallCount.start(.init(pid: getpid(), measureTime: true))
                defer { counter.close() }
                for _ in 0..<200 { _ = getppid() }
                let rows = try counter.read(byTime: true)
                let row = try #require(rows.first { $0.name == "getppid" }, "\(rows.prefix(10))")
                #expect(row.count >= 200)
                #expect(row.totalNanoseconds > 0)
                #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.totalNanoseconds >= $1.totalNanoseconds }, "sorted by time")
                try counter.clear()
                #expect(try counter.read().allSatisfy { $0.name != "getppid" || $0.count < row.count })
            }
        }

        @Test func failuresAreFilteredByErrno() throws {
            try ToolTests.run {
                let counter = try SyscallCount.start(.init(pid: getpid(), failedOnly: true, errno: ENOENT))
                defer { counter.close() }
                let missing = "/nonexistent/swiftbpf-syscount-\(UUID().uuidString)"
                for _ in 0..<30 { _ = open(missing, O_RDONLY) }
                for _ in 0..<30 { _ = getppid() }
                let rows = try counter.read()
                let opens = try #require(rows.first { $0.name == "openat" }, "\(rows)")
                #expect(opens.count >= 30)
                #expect(!rows.contains { $0.name == "getppid" }, "getppid never fails, so -e ENOENT drops it")
            }
        }

        @Test func countsByProcessWithTheCommand() throws {
            try ToolTests.run {
                let counter = try SyscallCount.start(.init(pid: getpid(), byProcess: true))
                defer { counter.close() }
                for _ in 0..<50 { _ = getppid() }
                let rows = try counter.read()
                #expect(rows.count == 1 && rows.first?.key == UInt32(getpid()), "\(rows)")
                #expect((rows.first?.count ?? 0) >= 50)
                #expect(rows.first?.name.isEmpty == false)
            }
        }

        @Test func syscallNamesComeFromTheHeaderText() {
            let names = SyscallNames.parse("#ifndef X\n#define __NR_read 0\n#define __NR_openat 257\n#define __NR_bad x\n")
            #expect(names == [0: "read", 257: "openat"])
            #expect(SyscallCount.line(.init(key: 0, name: "read", count: 12, totalNanoseconds: 1_500), byProcess: false, time: true,
                                      milliseconds: false) == "read                         12            1.500")
        }
    }
}
#endif
