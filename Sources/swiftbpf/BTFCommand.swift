import ArgumentParser
import BPFObject
import Foundation

struct BTFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "btf",
        abstract: "Inspect BTF type information.",
        subcommands: [BTFDumpCommand.self])
}

/// How `btf dump` prints types.
enum BTFDumpFormat: String, ExpressibleByArgument, CaseIterable {
    case raw, json, c
}

struct BTFDumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print every type of a BTF blob.",
        discussion: """
            FILE is raw BTF — the kernel's /sys/kernel/btf/vmlinux, a module's \
            /sys/kernel/btf/<module> (split BTF, read on top of vmlinux unless --base names \
            another base) — or an ELF object file built with clang -g, whose .BTF section is \
            dumped, or the id of a BTF object in the kernel (the btf_id that `swiftbpf prog \
            show` and `swiftbpf map show` print; needs root).

            raw prints what `bpftool btf dump file FILE` prints, line for line:
              [1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED
              [2] PTR '(anon)' type_id=1
            json prints what `bpftool -j btf dump file FILE` prints: {"types":[...]}.
            c prints a compilable C header, the vmlinux.h of `bpftool btf dump file FILE \
            format c`: every type in dependency order, records marked preserve_access_index \
            so that CO-RE programs can include it.

            Examples:
              swiftbpf btf dump /sys/kernel/btf/vmlinux | grep "STRUCT 'task_struct'"
              swiftbpf btf dump /sys/kernel/btf/nf_tables --format json
              swiftbpf btf dump prog.bpf.o
              swiftbpf btf dump 42
              swiftbpf btf dump /sys/kernel/btf/vmlinux --format c > vmlinux.h
            """)

    @Argument(help: "Raw BTF or ELF object file ('-' for standard input), or a kernel BTF id.") var file: String
    @Option(help: "Output format: raw, json or c.") var format: BTFDumpFormat = .raw
    @Option(help: "Base BTF for split BTF (default for /sys/kernel/btf/<module>: vmlinux).") var base: String?

    static let kernelDirectory = "/sys/kernel/btf/"

    func run() throws {
        var bytes: [UInt8]
        var source = file
        var basePath = base
        if let id = UInt32(file), !FileManager.default.fileExists(atPath: file) {
            let kernelBTF = try kernelBTFBytes(id: id)
            bytes = kernelBTF.bytes
            source = "BTF id \(id)"
            if basePath == nil, kernelBTF.isModule { basePath = Self.kernelDirectory + "vmlinux" }
        } else {
            bytes = try readFile(file)
        }
        if bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46]) {
            bytes = try Self.btfSection(of: bytes, path: file)
            source = "\(file) (.BTF)"
        }
        if basePath == nil, file.hasPrefix(Self.kernelDirectory), file != Self.kernelDirectory + "vmlinux" {
            basePath = Self.kernelDirectory + "vmlinux"
        }
        var baseBTF: BTF?
        if let basePath { baseBTF = try parse(try readFile(basePath), path: basePath, base: nil) }
        let btf = try parse(bytes, path: source, base: baseBTF)

        var output = BufferedOutput()
        switch format {
        case .raw:
            for id in btf.ownIDs {
                guard let text = btf.rawDump(of: id) else { continue }
                try output.write(text)
                try output.write("\n")
            }
        case .json:
            try output.write("{\"types\":[")
            var separator = ""
            for id in btf.ownIDs {
                guard let text = btf.jsonDump(of: id) else { continue }
                try output.write(separator)
                try output.write(text)
                separator = ","
            }
            try output.write("]}\n")
        case .c:
            let header: [UInt8]
            do {
                header = try btf.cHeaderBytes()
            } catch {
                throw CommandError("\(source): cannot write a C header: \(error)")
            }
            try output.write(bytes: header)
        }
        try output.flush()
    }

    /// The `.BTF` section of an ELF object file.
    static func btfSection(of bytes: [UInt8], path: String) throws -> [UInt8] {
        do {
            let elf = try ELFFile(parsing: bytes)
            guard let section = elf.section(named: ".BTF") else {
                throw CommandError("\(path): no .BTF section (compile with clang -g)")
            }
            return Array(try elf.contents(of: section))
        } catch let error as ObjectError {
            throw CommandError("\(path): \(error)")
        }
    }

    private func parse(_ bytes: [UInt8], path: String, base: BTF?) throws -> BTF {
        do {
            return try BTF(parsing: bytes, base: base)
        } catch {
            throw CommandError("\(path): not valid BTF: \(error)")
        }
    }
}

/// Collects output and writes it in large blocks: vmlinux dumps run to 300,000 lines.
struct BufferedOutput {
    private var buffer: [UInt8] = []

    init() { buffer.reserveCapacity(1 << 17) }

    mutating func write(_ text: String) throws(CommandError) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    mutating func write(bytes: [UInt8]) throws(CommandError) {
        try flush()
        try StandardStreams.write(bytes)
    }

    mutating func flush() throws(CommandError) {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        try StandardStreams.write(buffer)
    }
}
