import BPFInstructions
import ClassicBPF

/// How `filter` and `classic` print a classic program: in tcpdump's -d (1), -dd (2) or -ddd
/// (3) form, or as the eBPF socket filter the kernel would run (`semantics` .linux for a
/// program compiled for a live socket, whose ancillary loads mean the kernel's fields).
enum ClassicProgramOutput {
    static func print(_ program: ClassicProgram, dumpLevel: Int, ebpf: Bool, command: String,
                      semantics: ClassicSemantics = .libpcap) throws {
        if ebpf {
            do {
                let translated = try ClassicTranslator.translate(program, to: .socketFilter, semantics: semantics)
                Swift.print(Disassembler.disassemble(translated, syntax: .kernel), terminator: "")
            } catch {
                throw CommandError("\(command): cannot translate to eBPF: \(error)")
            }
            return
        }
        let format: ClassicTextFormat = dumpLevel == 3 ? .decimal : dumpLevel == 2 ? .cArray : .listing
        Swift.print(format.format(program), terminator: "")
    }
}
