// BPFTools: the tracing tools people run eBPF for (execsnoop, opensnoop, exitsnoop and the
// first program of every course, hello), built on BPFLinux. Each tool's kernel side is C
// in `bpf/`, compiled by the BPFCompilerPlugin into a skeleton; the Swift side sets the
// object's constants from the tool's options, attaches it, and turns the ring buffer's
// records into typed events and into the lines bcc's tool of the same name prints.
//
// This machine's kernel has tracepoints but neither kprobes nor fentry, so the tools use
// tracepoints only (as libbpf-tools do where it can). Linux only.
