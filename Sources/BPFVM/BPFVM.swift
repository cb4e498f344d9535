// BPFVM: runs eBPF programs in user space. `Interpreter` decodes a validated `Program` once
// into a dense form for dispatch and runs it with every memory access checked against the
// regions the program may touch (its input, the live stack frames, memory that helpers
// hand out), so no program can crash or corrupt the host. Helpers are Swift closures
// registered by id; `ConformanceRunner` runs tests in the public conformance suite's format.
// `JITProgram` compiles the same decoded form to machine code: `JITCompiler` (the front end)
// finds basic blocks and drives a `JITBackEnd` (x86-64: `X86BackEnd` on our own
// `X86Assembler`), with the interpreter's checks, budget and errors in the generated code.
// `AArch64BackEnd` on `AArch64Assembler` is the second target, begun: it compiles
// arithmetic, jumps and verified memory, and is checked against LLVM's disassembler.
