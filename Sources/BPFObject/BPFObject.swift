// BPFObject: the object files clang produces for BPF (`clang -target bpf -O2 -g`), read
// exactly as libbpf reads them — ELF sections, symbols and relocations, programs found by
// section name, maps and global data, BTF and BTF.ext type information, and CO-RE
// relocation against a target kernel's BTF. Every read is bounds-checked through
// `ByteReader`, so a truncated or corrupted file gives an error naming the offset.
