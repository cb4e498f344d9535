// BPFInstructions: the eBPF instruction set as RFC 9669 defines it.
//
// Two views of the same code. `RawInstruction` is the 8-byte slot the kernel calls
// `struct bpf_insn`; a `Program` is a validated array of them, which is what loaders,
// the kernel and the VM consume. `Instruction` is the decoded, typed view of one
// instruction (a 16-byte `lddw` is one `Instruction` over two slots), which is what the
// assembler, disassembler, verifier and JIT reason about. Decoding checks every reserved
// field, so a `Program` only ever holds code whose meaning is defined.
