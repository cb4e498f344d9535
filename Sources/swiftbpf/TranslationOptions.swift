import ArgumentParser
import ClassicBPF

/// `--ebpf` and the rules its translation keeps, for `filter` and `classic`.
struct TranslationOptions: ParsableArguments {
    /// Where libpcap and Linux run the same classic program differently.
    enum Rules: String, ExpressibleByArgument, CaseIterable {
        case linux, libpcap

        var semantics: ClassicSemantics { self == .linux ? .linux : .libpcap }
    }

    @Flag(help: "Print the eBPF translation (socket filter) instead.") var ebpf = false
    @Option(help: ArgumentHelp("""
        With --ebpf, whose rules the translation keeps where they differ: linux (the default: what the kernel \
        runs for the classic filter, ancillary loads from the socket buffer) or libpcap (bpf_filter's: a shift \
        by X of 32 or more gives 0; [x + k] past 2^32 and ancillary loads reject the packet).
        """, valueName: "linux|libpcap")) var rules: Rules = .linux

    func validate() throws {
        if rules != .linux && !ebpf { throw ValidationError("--rules applies to the --ebpf translation; add --ebpf") }
    }
}
