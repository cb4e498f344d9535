// ClassicBPF: the BSD Packet Filter of 1992 (McCanne and Jacobson), as libpcap compiles to
// it and Linux runs it on sockets — accumulator A, index X and 16 scratch words.
