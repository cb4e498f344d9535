/// BPFVerifier proves an eBPF program safe before it runs, as the Linux verifier does: an
/// abstract interpretation over every path that tracks what each register and stack byte
/// holds (uninitialised, a scalar as known bits plus signed and unsigned ranges, or a pointer
/// of a kind with an offset), refines it at every branch, prunes states already covered, and
/// checks each memory access, helper call and exit against the rules of the program type.
/// A rejection names the instruction, the path to it and the facts that matter; an
/// acceptance yields a `VerifiedProgram`, the proof that a VM or JIT may require.
