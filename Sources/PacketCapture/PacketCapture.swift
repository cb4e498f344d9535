// PacketCapture: capture files (pcap and pcapng), packet decoding and printing in the
// spirit of `tcpdump -n`, and live capture on Linux.
