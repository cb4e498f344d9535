// ClassicBPF: the BSD Packet Filter of 1992 (McCanne and Jacobson), as libpcap compiles to
// it and Linux runs it on sockets — accumulator A, index X and 16 scratch words.
//
// - `RawClassicInstruction` is the 8-byte `struct sock_filter`; `ClassicInstruction` its
//   meaning; `AncillaryField` the Linux SKF_AD_* loads.
// - `ClassicProgram` holds only what the kernel's `bpf_check_classic` accepts, and says
//   which instruction fails and why (`ClassicValidationError`).
// - `ClassicInterpreter` runs programs with libpcap's `bpf_filter` semantics, or Linux's
//   when given `AncillaryData`, over `Step`s decoded once, with tcpdump's common shapes
//   fused; `PacketLoads` holds its bounds-checked loads and the slow paths.
// - `ClassicTextFormat` prints and reads the three forms of `tcpdump -d`, `-dd` and `-ddd`.
// - `ClassicTranslator` turns a program into eBPF for BPFVM or for a Linux socket filter.
