// BPFLinux: the Linux kernel side of SwiftBPF — bpf(2) and perf_event_open(2) bindings
// written from the UAPI headers, maps, programs, links, ring and perf buffers, tracefs,
// netlink and bpffs. Like libbpf, cilium/ebpf and Aya, but in Swift: a program loads a
// clang-built object into the running kernel, attaches it, and reads what it finds.
// Linux only; on other systems the module is empty.
