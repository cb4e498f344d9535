// PacketCapture: capture files (pcap and pcapng), packet decoding and printing in the
// spirit of `tcpdump -n`, and live capture on Linux.
//
// Capture files are read from bytes already in memory (file I/O belongs to the caller), so
// the module stays portable and a reader never allocates from a length field: every length
// is checked against the bytes that are really there, through BPFObject's `ByteReader`.
// `CaptureReader` detects the format and yields packets; a damaged file gives the packets
// before the damage and then a `CaptureError` naming the byte offset and packet number.
// `CaptureWriter` produces pcap or pcapng bytes, appending as packets arrive.
//
// `PacketDecoder` turns a packet into a `PacketSummary` (its layers, and where the bytes ran
// out) and `PacketPrinter` writes the line `tcpdump -n` would; the printer keeps tcpdump's
// per-connection TCP sequence bases, so one printer serves one capture. On Linux,
// `LiveCapture` reads an interface through a TPACKET_V3 ring with the filter in the kernel.
