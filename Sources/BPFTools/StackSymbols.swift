#if os(Linux)
import BPFObject
import Glibc

/// Names for the return addresses of sampled stacks: kernel addresses from /proc/kallsyms
/// (readable with addresses as root), user addresses by the function of the mapped file's
/// ELF symbol tables that holds them (Swift names demangled), found through the mapping in
/// /proc/PID/maps read while the process lives; `file+0xoffset` where no symbol covers it.
public final class StackSymbols {
    private var kernel: [(address: UInt64, name: String)]?
    private var mappings: [Int32: [Mapping]] = [:]
    /// Each mapped file's functions by file offset; empty for a file without symbols.
    private var functions: [String: [ELFExecutable.FunctionRange]] = [:]

    struct Mapping {
        var start: UInt64
        var end: UInt64
        var offset: UInt64
        var path: String
    }

    public init() {}

    /// "name+0x1f" or "[unknown]" for a kernel address.
    public func kernelName(_ address: UInt64) -> String {
        if kernel == nil { kernel = Self.kernelSymbols() }
        guard let symbols = kernel, let index = Self.lastIndex(in: symbols, notAbove: address) else { return "[unknown]" }
        return symbols[index].name
    }

    /// "file+0x1234" (the file's base name and the offset in it) or "[unknown]" for an
    /// address in process `pid`.
    public func userName(_ address: UInt64, pid: Int32) -> String {
        if mappings[pid] == nil { mappings[pid] = Self.mappings(of: pid) }
        guard let mapping = mappings[pid]?.first(where: { address >= $0.start && address < $0.end }) else { return "[unknown]" }
        let offset = address - mapping.start + mapping.offset
        if let function = ELFExecutable.function(containing: offset, in: functions(of: mapping.path)) {
            return Self.demangled(function.name)
        }
        let file = mapping.path.split(separator: "/").last.map(String.init) ?? mapping.path
        return "\(file)+0x\(String(offset, radix: 16))"
    }

    private func functions(of path: String) -> [ELFExecutable.FunctionRange] {
        if let known = functions[path] { return known }
        let found = readFileBytes(path).flatMap { try? ELFExecutable(parsing: $0).functionsByFileOffset() } ?? []
        functions[path] = found
        return found
    }

    /// A Swift symbol as people read it (`static Module.Type.method(label:) -> ()`), through
    /// the Swift runtime's own demangler; other names as they are.
    static func demangled(_ name: String) -> String {
        guard name.hasPrefix("$s") || name.hasPrefix("_$s") || name.hasPrefix("$S") else { return name }
        guard let text = name.withCString({ swiftDemangle($0, strlen($0), nil, nil, 0) }) else { return name }
        defer { free(text) }
        return String(cString: text)
    }

    /// The sorted text symbols of /proc/kallsyms; empty when its addresses are hidden (zero).
    static func kernelSymbols() -> [(address: UInt64, name: String)] {
        guard let text = readTextFile("/proc/kallsyms") else { return [] }
        var symbols: [(address: UInt64, name: String)] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 3)
            guard fields.count >= 3, let address = UInt64(fields[0], radix: 16), address != 0,
                  fields[1] == "t" || fields[1] == "T" else { continue }
            symbols.append((address, String(fields[2])))
        }
        return symbols.sorted { $0.address < $1.address }
    }

    /// The file-backed mappings of `pid` ("start-end perms offset dev inode path").
    static func mappings(of pid: Int32) -> [Mapping] {
        guard let text = readTextFile("/proc/\(pid)/maps") else { return [] }
        var result: [Mapping] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            let path = fields.count == 6 ? fields[5].drop { $0 == " " } : ""
            guard path.hasPrefix("/") else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16),
                  let offset = UInt64(fields[2], radix: 16) else { continue }
            result.append(Mapping(start: start, end: end, offset: offset, path: String(path)))
        }
        return result
    }

    /// The index of the last symbol at or below `address`.
    static func lastIndex(in symbols: [(address: UInt64, name: String)], notAbove address: UInt64) -> Int? {
        var low = 0, high = symbols.count
        while low < high {
            let middle = (low + high) / 2
            if symbols[middle].address <= address { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : low - 1
    }
}

extension Profiler.Sample {
    /// The sample as a folded stack, outermost frame first: the command, the user frames,
    /// then the kernel frames marked `_[k]` — the format flame graph tools read.
    public func folded(_ symbols: StackSymbols) -> String {
        var frames = [command.isEmpty ? "[unknown]" : command]
        frames += userStack.reversed().map { symbols.userName($0, pid: pid) }
        frames += kernelStack.reversed().map { symbols.kernelName($0) + "_[k]" }
        return frames.map { String($0.map { $0 == ";" ? ":" : $0 }) }.joined(separator: ";")
    }
}
@_silgen_name("swift_demangle")
private func swiftDemangle(_ mangled: UnsafePointer<CChar>, _ length: Int, _ output: UnsafeMutablePointer<CChar>?,
                           _ outputSize: UnsafeMutablePointer<Int>?, _ flags: UInt32) -> UnsafeMutablePointer<CChar>?
#endif
