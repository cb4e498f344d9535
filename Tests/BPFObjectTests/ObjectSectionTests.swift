import BPFInstructions
import BPFObject
import Testing

/// Section names to program types, as libbpf's `section_defs` table maps them: the table by
/// itself, and the programs of Fixtures/sections.bpf.c (one per convention).
@Suite struct ObjectSectionTests {
    struct Expectation: Sendable, CustomStringConvertible {
        var program: String
        var type: ProgramType
        var attach: AttachType?
        var target: String?
        var flags: UInt32 = 0
        var description: String { program }
    }

    static let sleepable = ProgramSpec.sleepableFlag

    static let expectations: [Expectation] = [
        .init(program: "socket_prog", type: .socketFilter, attach: nil, target: nil),
        .init(program: "xdp_prog", type: .xdp, attach: .xdp, target: nil),
        .init(program: "xdp_frags_prog", type: .xdp, attach: .xdp, target: nil, flags: ProgramSpec.xdpHasFragmentsFlag),
        .init(program: "xdp_devmap_prog", type: .xdp, attach: .xdpDevmap, target: nil),
        .init(program: "tc_prog", type: .schedulerClassifier, attach: nil, target: nil),
        .init(program: "tc_ingress_prog", type: .schedulerClassifier, attach: .tcxIngress, target: nil),
        .init(program: "tc_egress_prog", type: .schedulerClassifier, attach: .tcxEgress, target: nil),
        .init(program: "tcx_ingress_prog", type: .schedulerClassifier, attach: .tcxIngress, target: nil),
        .init(program: "tcx_egress_prog", type: .schedulerClassifier, attach: .tcxEgress, target: nil),
        .init(program: "classifier_prog", type: .schedulerClassifier, attach: nil, target: nil),
        .init(program: "action_prog", type: .schedulerAction, attach: nil, target: nil),
        .init(program: "tracepoint_prog", type: .tracepoint, attach: nil, target: "syscalls/sys_enter_openat"),
        .init(program: "tp_prog", type: .tracepoint, attach: nil, target: "sched/sched_switch"),
        .init(program: "raw_tracepoint_prog", type: .rawTracepoint, attach: nil, target: "sys_enter"),
        .init(program: "raw_tp_prog", type: .rawTracepoint, attach: nil, target: "sys_exit"),
        .init(program: "raw_tp_writable_prog", type: .rawTracepointWritable, attach: nil, target: "bpf_test_finish"),
        .init(program: "tp_btf_prog", type: .tracing, attach: .traceRawTracepoint, target: "sched_wakeup"),
        .init(program: "uprobe_prog", type: .kprobe, attach: nil, target: "/usr/lib/libc.so.6:malloc"),
        .init(program: "uretprobe_prog", type: .kprobe, attach: nil, target: "/usr/lib/libc.so.6:malloc"),
        .init(program: "uprobe_sleepable_prog", type: .kprobe, attach: nil, target: "/usr/bin/bash:readline", flags: sleepable),
        .init(program: "uprobe_multi_prog", type: .kprobe, attach: .traceUprobeMulti, target: "/usr/lib/libc.so.6:str*"),
        .init(program: "usdt_prog", type: .kprobe, attach: nil, target: "libc:setjmp"),
        .init(program: "kprobe_prog", type: .kprobe, attach: nil, target: "do_unlinkat"),
        .init(program: "kretprobe_prog", type: .kprobe, attach: nil, target: "do_unlinkat"),
        .init(program: "kprobe_multi_prog", type: .kprobe, attach: .traceKprobeMulti, target: "tcp_*"),
        .init(program: "ksyscall_prog", type: .kprobe, attach: nil, target: "execve"),
        .init(program: "fentry_prog", type: .tracing, attach: .traceFentry, target: "tcp_connect"),
        .init(program: "fexit_prog", type: .tracing, attach: .traceFexit, target: "tcp_connect"),
        .init(program: "fmod_ret_prog", type: .tracing, attach: .modifyReturn, target: "security_file_open"),
        .init(program: "fentry_sleepable_prog", type: .tracing, attach: .traceFentry, target: "do_sys_open", flags: sleepable),
        .init(program: "freplace_prog", type: .extension, attach: nil, target: "handler"),
        .init(program: "lsm_prog", type: .lsm, attach: .lsmMAC, target: "file_open"),
        .init(program: "lsm_sleepable_prog", type: .lsm, attach: .lsmMAC, target: "bprm_committed_creds", flags: sleepable),
        .init(program: "iter_prog", type: .tracing, attach: .traceIterator, target: "task"),
        .init(program: "perf_event_prog", type: .perfEvent, attach: nil, target: nil),
        .init(program: "cgroup_skb_ingress_prog", type: .cgroupSocketBuffer, attach: .cgroupInetIngress, target: nil),
        .init(program: "cgroup_skb_egress_prog", type: .cgroupSocketBuffer, attach: .cgroupInetEgress, target: nil),
        .init(program: "cgroup_skb_prog", type: .cgroupSocketBuffer, attach: nil, target: nil),
        .init(program: "cgroup_sock_prog", type: .cgroupSocket, attach: .cgroupInetSocketCreate, target: nil),
        .init(program: "cgroup_sock_create_prog", type: .cgroupSocket, attach: .cgroupInetSocketCreate, target: nil),
        .init(program: "cgroup_post_bind4_prog", type: .cgroupSocket, attach: .cgroupInet4PostBind, target: nil),
        .init(program: "cgroup_connect4_prog", type: .cgroupSocketAddress, attach: .cgroupInet4Connect, target: nil),
        .init(program: "cgroup_connect6_prog", type: .cgroupSocketAddress, attach: .cgroupInet6Connect, target: nil),
        .init(program: "cgroup_sendmsg4_prog", type: .cgroupSocketAddress, attach: .cgroupUDP4SendMessage, target: nil),
        .init(program: "cgroup_recvmsg6_prog", type: .cgroupSocketAddress, attach: .cgroupUDP6ReceiveMessage, target: nil),
        .init(program: "cgroup_getsockopt_prog", type: .cgroupSocketOption, attach: .cgroupGetSocketOption, target: nil),
        .init(program: "cgroup_sysctl_prog", type: .cgroupSysctl, attach: .cgroupSysctl, target: nil),
        .init(program: "cgroup_dev_prog", type: .cgroupDevice, attach: .cgroupDevice, target: nil),
        .init(program: "sk_skb_parser_prog", type: .socketBuffer, attach: .socketBufferStreamParser, target: nil),
        .init(program: "sk_skb_verdict_prog", type: .socketBuffer, attach: .socketBufferStreamVerdict, target: nil),
        .init(program: "sk_skb_prog", type: .socketBuffer, attach: nil, target: nil),
        .init(program: "sk_msg_prog", type: .socketMessage, attach: .socketMessageVerdict, target: nil),
        .init(program: "sk_lookup_prog", type: .socketLookup, attach: .socketLookup, target: nil),
        .init(program: "sk_reuseport_prog", type: .socketReuseport, attach: .socketReuseportSelect, target: nil),
        .init(program: "sockops_prog", type: .socketOperations, attach: .cgroupSocketOperations, target: nil),
        .init(program: "flow_dissector_prog", type: .flowDissector, attach: .flowDissector, target: nil),
        .init(program: "lwt_in_prog", type: .lightweightTunnelIn, attach: nil, target: nil),
        .init(program: "lwt_xmit_prog", type: .lightweightTunnelTransmit, attach: nil, target: nil),
        .init(program: "struct_ops_prog", type: .structOperations, attach: nil, target: "tcp_cong_avoid"),
        .init(program: "syscall_prog", type: .syscall, attach: nil, target: nil, flags: sleepable),
        .init(program: "netfilter_prog", type: .netfilter, attach: .netfilter, target: nil),
        .init(program: "netkit_prog", type: .schedulerClassifier, attach: .netkitPrimary, target: nil),
        .init(program: "xdp_no_autoload_prog", type: .xdp, attach: .xdp, target: nil),
        .init(program: "custom_section_prog", type: .unspecified, attach: nil, target: nil),
        .init(program: "kprobe_no_target_prog", type: .kprobe, attach: nil, target: nil),
    ]

    @Test(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"), arguments: expectations)
    func fixtureProgramHasLibbpfTypeAndTarget(_ expected: Expectation) throws {
        let object = try ObjectFixtures.object("sections")
        let program = try #require(object.program(named: expected.program))
        #expect(program.type == expected.type)
        #expect(program.expectedAttachType == expected.attach)
        #expect(program.attachTarget == expected.target)
        #expect(program.loadFlags == expected.flags)
        #expect(program.autoload == (expected.program != "xdp_no_autoload_prog"))
        #expect(program.isGlobal)
        #expect(program.instructions.count == 2)  // w0 = 0; exit
        #expect(program.program != nil)
        #expect(program.license == "GPL")
    }

    @Test(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
    func everyFunctionOfTheFixtureIsAProgram() throws {
        let object = try ObjectFixtures.object("sections")
        #expect(object.programs.map(\.name).sorted() == Self.expectations.map(\.program).sorted())
        // "?xdp" shares libbpf's meaning of "xdp" but keeps its own ELF section.
        #expect(object.program(named: "xdp_no_autoload_prog")?.sectionName == "xdp")
        #expect(object.subprograms.isEmpty)
    }

    @Test func prefixRulesFollowLibbpf() {
        #expect(SectionDefinition.matching("kprobe")?.name == "kprobe")
        #expect(SectionDefinition.matching("kprobe/x")?.name == "kprobe")
        #expect(SectionDefinition.matching("kprobex") == nil)
        #expect(SectionDefinition.matching("kprobe.multi/x")?.expectedAttachType == .traceKprobeMulti)
        #expect(SectionDefinition.matching("xdp/foo") == nil)  // xdp only matches exactly
        #expect(SectionDefinition.matching("xdp.frags/cpumap")?.expectedAttachType == .xdpCPUMap)
        #expect(SectionDefinition.matching("uretprobe.multi.s/x")?.options.contains(.sleepable) == true)
        #expect(SectionDefinition.matching("tp.s/a/b")?.attachTarget(in: "tp.s/a/b") == "a/b")
        #expect(SectionDefinition.matching("cgroup/connect_unix")?.expectedAttachType == .cgroupUnixConnect)
        #expect(SectionDefinition.matching("usdt")?.options.contains(.usdt) == true)
        #expect(SectionDefinition.matching("lsm_cgroup/socket_bind")?.expectedAttachType == .lsmCgroup)
        #expect(SectionDefinition.matching("")?.name == nil)
    }

    @Test func kernelNumbersAreTheUAPIOnes() {
        // linux/bpf.h: BPF_PROG_TYPE_XDP = 6, BPF_PROG_TYPE_SYSCALL = 31, NETFILTER = 32.
        #expect(ProgramType.xdp.rawValue == 6)
        #expect(ProgramType.syscall.rawValue == 31)
        #expect(ProgramType.netfilter.rawValue == 32)
        // BPF_XDP = 37, BPF_LSM_CGROUP = 43, BPF_TCX_INGRESS = 46, BPF_TRACE_UPROBE_MULTI = 48.
        #expect(AttachType.xdp.rawValue == 37)
        #expect(AttachType.lsmCgroup.rawValue == 43)
        #expect(AttachType.tcxIngress.rawValue == 46)
        #expect(AttachType.traceUprobeMulti.rawValue == 48)
        #expect(AttachType.netkitPeer.rawValue == 55)
        // BPF_MAP_TYPE_RINGBUF = 27, BPF_MAP_TYPE_ARENA = 33.
        #expect(MapType.ringBuffer.rawValue == 27)
        #expect(MapType.arena.rawValue == 33)
        #expect(MapType(rawValue: 27) == .ringBuffer)
        #expect(MapType(rawValue: 999) == .other(999))
        #expect(MapType(rawValue: 999).rawValue == 999)
    }
}
