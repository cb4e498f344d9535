import ArgumentParser
import BPFInstructions
import ClassicBPF
import Foundation

extension ClassicTextFormat: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "d", "listing": self = .listing
        case "dd", "c": self = .cArray
        case "ddd", "decimal": self = .decimal
        default: return nil
        }
    }

    /// The names --form takes, as its help lists them (the cases' own names are not among them).
    public static var allValueStrings: [String] { ["d", "dd", "ddd", "listing", "c", "decimal"] }
}

struct ClassicCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classic",
        abstract: "Assemble and check a classic BPF program written as tcpdump prints one.",
        discussion: """
            The program is read in any of tcpdump's three forms: -d (`ldh [12]`, `jeq #0x800 \
            jt 2 jf 5`; jump targets absolute, the `(000)` numbers optional, `;` comments; \
            ancillary loads as libpcap writes them, `ld [proto]`, or with bpf_asm's names, \
            `ld #proto`; bpf_asm's labels and other instructions are not read), -dd (the C array) or -ddd (decimal, as `iptables -m bpf` takes \
            it). The form is detected unless --form is given. It is then checked with the \
            kernel's rules (forward jumps, scratch memory written before read, no division by \
            a constant zero, a final return, at most 4096 instructions) and printed as -d \
            (the default), -dd or -ddd print, or with --ebpf as the eBPF socket filter the \
            kernel would run (--rules libpcap: with bpf_filter's rules instead, where an \
            ancillary load rejects the packet). With Linux's rules a socket filter in eBPF has \
            no way to read the ancillary fields hatype, poff, nla and nlan, and no translation \
            of a program that loads them.

            Examples:
              swiftbpf filter 'tcp port 80' > web.txt && swiftbpf classic web.txt -ddd
              echo 'ld #proto
              jeq #0x800 jt 2 jf 3
              ret #-1
              ret #0' | swiftbpf classic - --ebpf
            """)

    @Argument(help: "The program's text ('-' for standard input).") var file: String
    @Option(help: "The input form: d (listing), dd (C array) or ddd (decimal); detected when not given.") var form: ClassicTextFormat?
    @OptionGroup var dump: ClassicDumpOptions
    @OptionGroup var translation: TranslationOptions

    func run() throws {
        let text: String
        do {
            text = String(decoding: try readFile(file), as: UTF8.self)
        } catch {
            throw CommandError("classic: \(error)")
        }
        let inputForm = form ?? Self.detectForm(text)
        let program: ClassicProgram
        do {
            program = try ClassicProgram(try inputForm.parse(text))
        } catch {
            throw CommandError("classic: \(file): \(error)")
        }
        try ClassicProgramOutput.print(program, dumpLevel: dump.level, translation: translation, command: "classic")
    }

    /// `{` starts the C array; a first line that is a lone number, the decimal form.
    static func detectForm(_ text: String) -> ClassicTextFormat {
        let first = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty && !$0.hasPrefix(";") && !$0.hasPrefix("//") && !$0.hasPrefix("#") } ?? ""
        if first.hasPrefix("{") { return .cArray }
        if !first.isEmpty, first.allSatisfy(\.isNumber) || first.contains(",") && first.first?.isNumber == true { return .decimal }
        return .listing
    }
}
