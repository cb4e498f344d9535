import BPFInstructions
import BPFObject
import Foundation
import Testing

/// ELFExecutable: symbols and file offsets of executables and shared objects, as uprobes
/// need them. The C library this process runs is the reference: the bytes at a function's
/// computed file offset must be the bytes the loader mapped at the function's address.
@Suite struct ELFExecutableTests {
    #if os(Linux)
    /// The C library mapped into this process, from /proc/self/maps.
    static func loadedLibC() -> String? {
        // procfs files report size 0, so read to the end rather than by the stat size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/maps") else { return nil }
        defer { try? handle.close() }
        let maps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        for line in maps.split(separator: "\n") {
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last, path.hasPrefix("/"),
                  path.contains("/libc.so") || path.contains("/libc-") else { continue }
            return String(path)
        }
        return nil
    }

    @Test(arguments: ["getpid", "getppid", "malloc", "open", "write"])
    func fileOffsetsMatchWhatTheLoaderMapped(symbol: String) throws {
        guard let path = Self.loadedLibC() else {
            Issue.record("no C library in /proc/self/maps: a Linux process always maps one")
            return
        }
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let elf = try ELFExecutable(parsing: bytes)
        #expect(elf.type == 3, "a shared object")
        #expect(!elf.segments.isEmpty)
        guard let offset = try elf.fileOffset(ofSymbol: symbol), let address = dlsym(UnsafeMutableRawPointer(bitPattern: 0), symbol) else {
            Issue.record("\(symbol) not found in \(path)")
            return
        }
        // An IFUNC's resolved address is another function; compare only plain functions.
        let defined = try elf.symbols(named: symbol)
        guard defined.allSatisfy({ $0.kind == .function }) else { return }
        let count = 16
        let mapped = Array(UnsafeRawBufferPointer(start: address, count: count))
        #expect(Array(bytes[Int(offset)..<Int(offset) + count]) == mapped, "\(symbol) at file offset 0x\(String(offset, radix: 16))")
        // And back: an address inside the function is named by a symbol at that offset
        // (an alias such as __getpid may be the one kept).
        let functions = try elf.functionsByFileOffset()
        let named = try #require(ELFExecutable.function(containing: offset + 1, in: functions))
        #expect(named.fileOffset == offset, "\(named)")
        #expect(try elf.fileOffset(ofSymbol: named.name) == offset, "\(named.name)")
        #expect(functions.map(\.fileOffset) == functions.map(\.fileOffset).sorted())
    }
    #endif

    @Test func unknownSymbolsAndIndirectFunctionsAreNil() throws {
        #if os(Linux)
        guard let path = Self.loadedLibC() else { return }
        let elf = try ELFExecutable(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(try elf.fileOffset(ofSymbol: "swiftbpf_no_such_function") == nil)
        #expect(try elf.symbols(named: "getpi").isEmpty, "a prefix is not a match")
        // strlen is an IFUNC: its symbol is the resolver, not code to probe.
        if try elf.symbols(named: "strlen").allSatisfy({ $0.kind == .other(10) }) {
            #expect(try elf.fileOffset(ofSymbol: "strlen") == nil)
        }
        #endif
    }

    @Test func refusesWhatIsNotAnExecutable() throws {
        let notELF = #expect(throws: ObjectError.self) { try ELFExecutable(parsing: Array("hello".utf8)) }
        #expect(notELF?.kind == .notELF)
        let short = #expect(throws: ObjectError.self) { try ELFExecutable(parsing: [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]) }
        #expect(short?.description.contains("truncated") == true)
        var relocatable = [UInt8](repeating: 0, count: 64)
        relocatable.replaceSubrange(0..<7, with: [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1])
        relocatable[16] = 1
        let object = #expect(throws: ObjectError.self) { try ELFExecutable(parsing: relocatable) }
        #expect(object?.description.contains("not an executable or shared object (e_type 1)") == true)
        var thirtyTwo = relocatable
        thirtyTwo[4] = 1
        let bits = #expect(throws: ObjectError.self) { try ELFExecutable(parsing: thirtyTwo) }
        #expect(bits?.kind == .unsupported)
    }

    /// Truncated and corrupted copies of a real binary give a value or an error, never a crash.
    @Test func damagedBinariesNeverCrash() throws {
        #if os(Linux)
        guard let path = Self.loadedLibC() else { return }
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        var generator = SystemRandomNumberGenerator()
        for round in 0..<200 {
            var bytes = original
            if round % 2 == 0 {
                bytes = Array(bytes.prefix(Int.random(in: 0..<min(bytes.count, 1 << 16), using: &generator)))
            } else {
                for _ in 0..<32 {
                    // Headers and tables are where damage matters; hit the first 4 KiB often.
                    let limit = Bool.random(using: &generator) ? min(4096, bytes.count) : bytes.count
                    bytes[Int.random(in: 0..<limit, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            if let elf = try? ELFExecutable(parsing: bytes) {
                _ = try? elf.fileOffset(ofSymbol: "getpid")
                _ = elf.fileOffset(ofAddress: UInt64.random(in: 0...UInt64.max, using: &generator), sectionIndex: UInt16.random(in: 0...UInt16.max))
            }
        }
        #endif
    }
}
