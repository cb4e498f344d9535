import BPFInstructions
import ClassicBPF

/// How `filter` and `classic` print a classic program: in tcpdump's -d (1), -dd (2) or -ddd
/// (3) form, or as the eBPF socket filter the kernel would run: by default with Linux's
/// rules, so the ancillary fields (`#proto`, `[vlanp]`) read the socket buffer.
enum ClassicProgramOutput {
    static func print(_ program: ClassicProgram, dumpLevel: Int, translation: TranslationOptions? = nil, command: String) throws {
        if let translation, translation.ebpf {
            do {
                let translated = try ClassicTranslator.translate(program, to: .socketFilter, semantics: translation.rules.semantics)
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
