/// What a program's ELF section name means, by libbpf's conventions (`SEC("kprobe/...")`):
/// the program type, the expected attach type, load flags, and where the attach target is.
public struct SectionDefinition: Sendable, Hashable {
    public struct Options: OptionSet, Sendable, Hashable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// The kernel may be too old for `expected_attach_type`; libbpf then sends 0.
        public static let attachTypeOptional = Options(rawValue: 1 << 0)
        /// The target is a BTF id found by the name after the slash (fentry, lsm, iter...).
        public static let attachByBTF = Options(rawValue: 1 << 1)
        /// Loaded with `BPF_F_SLEEPABLE`.
        public static let sleepable = Options(rawValue: 1 << 2)
        /// XDP program that handles multi-buffer packets: `BPF_F_XDP_HAS_FRAGS`.
        public static let xdpFragments = Options(rawValue: 1 << 3)
        /// USDT probe: attached through uprobe-multi links where the kernel has them.
        public static let usdt = Options(rawValue: 1 << 4)
    }

    /// How the name is matched.
    public enum Match: Sendable, Hashable {
        /// The section name is exactly this.
        case exact
        /// This, or this followed by `/` and a target (libbpf's `"kprobe+"`).
        case prefixWithTarget
    }

    public var name: String
    public var match: Match
    public var programType: ProgramType
    /// `nil` where libbpf leaves `expected_attach_type` 0.
    public var expectedAttachType: AttachType?
    public var options: Options

    public init(_ name: String, _ match: Match, _ programType: ProgramType, _ expectedAttachType: AttachType?,
                _ options: Options = []) {
        self.name = name
        self.match = match
        self.programType = programType
        self.expectedAttachType = expectedAttachType
        self.options = options
    }

    public func matches(_ sectionName: String) -> Bool {
        switch match {
        case .exact:
            return sectionName == name
        case .prefixWithTarget:
            guard sectionName.utf8.starts(with: name.utf8) else { return false }
            let rest = sectionName.utf8.dropFirst(name.utf8.count)
            return rest.isEmpty || rest.first == UInt8(ascii: "/")
        }
    }

    /// The text after `name/` for definitions that take a target, e.g. "syscalls/sys_enter_openat"
    /// for `tracepoint/syscalls/sys_enter_openat`; `nil` when there is none.
    public func attachTarget(in sectionName: String) -> String? {
        guard match == .prefixWithTarget, matches(sectionName) else { return nil }
        let rest = sectionName.utf8.dropFirst(name.utf8.count + 1)
        return rest.isEmpty ? nil : String(decoding: rest, as: UTF8.self)
    }

    /// The first definition matching `sectionName`, in libbpf's order (more specific names first).
    public static func matching(_ sectionName: String) -> SectionDefinition? {
        all.first { $0.matches(sectionName) }
    }

    /// libbpf's table, in its order: the first match wins.
    public static let all: [SectionDefinition] = {
        let optional: Options = .attachTypeOptional
        let btf: Options = .attachByBTF
        let sleepable: Options = .sleepable
        return [
            .init("socket", .exact, .socketFilter, nil),
            .init("sk_reuseport/migrate", .exact, .socketReuseport, .socketReuseportSelectOrMigrate),
            .init("sk_reuseport", .exact, .socketReuseport, .socketReuseportSelect),
            .init("kprobe", .prefixWithTarget, .kprobe, nil),
            .init("uprobe", .prefixWithTarget, .kprobe, nil),
            .init("uprobe.s", .prefixWithTarget, .kprobe, nil, sleepable),
            .init("kretprobe", .prefixWithTarget, .kprobe, nil),
            .init("uretprobe", .prefixWithTarget, .kprobe, nil),
            .init("uretprobe.s", .prefixWithTarget, .kprobe, nil, sleepable),
            .init("kprobe.multi", .prefixWithTarget, .kprobe, .traceKprobeMulti),
            .init("kretprobe.multi", .prefixWithTarget, .kprobe, .traceKprobeMulti),
            .init("kprobe.session", .prefixWithTarget, .kprobe, .traceKprobeSession),
            .init("uprobe.multi", .prefixWithTarget, .kprobe, .traceUprobeMulti),
            .init("uretprobe.multi", .prefixWithTarget, .kprobe, .traceUprobeMulti),
            .init("uprobe.session", .prefixWithTarget, .kprobe, .traceUprobeSession),
            .init("uprobe.multi.s", .prefixWithTarget, .kprobe, .traceUprobeMulti, sleepable),
            .init("uretprobe.multi.s", .prefixWithTarget, .kprobe, .traceUprobeMulti, sleepable),
            .init("uprobe.session.s", .prefixWithTarget, .kprobe, .traceUprobeSession, sleepable),
            .init("ksyscall", .prefixWithTarget, .kprobe, nil),
            .init("kretsyscall", .prefixWithTarget, .kprobe, nil),
            .init("usdt", .prefixWithTarget, .kprobe, nil, .usdt),
            .init("usdt.s", .prefixWithTarget, .kprobe, nil, [.usdt, .sleepable]),
            .init("tc/ingress", .exact, .schedulerClassifier, .tcxIngress),
            .init("tc/egress", .exact, .schedulerClassifier, .tcxEgress),
            .init("tcx/ingress", .exact, .schedulerClassifier, .tcxIngress),
            .init("tcx/egress", .exact, .schedulerClassifier, .tcxEgress),
            .init("tc", .exact, .schedulerClassifier, nil),
            .init("classifier", .exact, .schedulerClassifier, nil),
            .init("action", .exact, .schedulerAction, nil),
            .init("netkit/primary", .exact, .schedulerClassifier, .netkitPrimary),
            .init("netkit/peer", .exact, .schedulerClassifier, .netkitPeer),
            .init("tracepoint", .prefixWithTarget, .tracepoint, nil),
            .init("tp", .prefixWithTarget, .tracepoint, nil),
            .init("tracepoint.s", .prefixWithTarget, .tracepoint, nil, sleepable),
            .init("tp.s", .prefixWithTarget, .tracepoint, nil, sleepable),
            .init("raw_tracepoint", .prefixWithTarget, .rawTracepoint, nil),
            .init("raw_tp", .prefixWithTarget, .rawTracepoint, nil),
            .init("raw_tracepoint.s", .prefixWithTarget, .rawTracepoint, nil, sleepable),
            .init("raw_tp.s", .prefixWithTarget, .rawTracepoint, nil, sleepable),
            .init("raw_tracepoint.w", .prefixWithTarget, .rawTracepointWritable, nil),
            .init("raw_tp.w", .prefixWithTarget, .rawTracepointWritable, nil),
            .init("tp_btf", .prefixWithTarget, .tracing, .traceRawTracepoint, btf),
            .init("tp_btf.s", .prefixWithTarget, .tracing, .traceRawTracepoint, [.attachByBTF, .sleepable]),
            .init("fentry", .prefixWithTarget, .tracing, .traceFentry, btf),
            .init("fmod_ret", .prefixWithTarget, .tracing, .modifyReturn, btf),
            .init("fexit", .prefixWithTarget, .tracing, .traceFexit, btf),
            .init("fentry.s", .prefixWithTarget, .tracing, .traceFentry, [.attachByBTF, .sleepable]),
            .init("fmod_ret.s", .prefixWithTarget, .tracing, .modifyReturn, [.attachByBTF, .sleepable]),
            .init("fexit.s", .prefixWithTarget, .tracing, .traceFexit, [.attachByBTF, .sleepable]),
            .init("fsession", .prefixWithTarget, .tracing, .traceFsession, btf),
            .init("fsession.s", .prefixWithTarget, .tracing, .traceFsession, [.attachByBTF, .sleepable]),
            .init("fsession.multi", .prefixWithTarget, .tracing, .traceFsessionMulti),
            .init("fsession.multi.s", .prefixWithTarget, .tracing, .traceFsessionMulti, sleepable),
            .init("fentry.multi", .prefixWithTarget, .tracing, .traceFentryMulti),
            .init("fexit.multi", .prefixWithTarget, .tracing, .traceFexitMulti),
            .init("fentry.multi.s", .prefixWithTarget, .tracing, .traceFentryMulti, sleepable),
            .init("fexit.multi.s", .prefixWithTarget, .tracing, .traceFexitMulti, sleepable),
            .init("freplace", .prefixWithTarget, .extension, nil, btf),
            .init("lsm", .prefixWithTarget, .lsm, .lsmMAC, btf),
            .init("lsm.s", .prefixWithTarget, .lsm, .lsmMAC, [.attachByBTF, .sleepable]),
            .init("lsm_cgroup", .prefixWithTarget, .lsm, .lsmCgroup, btf),
            .init("iter", .prefixWithTarget, .tracing, .traceIterator, btf),
            .init("iter.s", .prefixWithTarget, .tracing, .traceIterator, [.attachByBTF, .sleepable]),
            .init("syscall", .exact, .syscall, nil, sleepable),
            .init("xdp.frags/devmap", .exact, .xdp, .xdpDevmap, .xdpFragments),
            .init("xdp/devmap", .exact, .xdp, .xdpDevmap),
            .init("xdp.frags/cpumap", .exact, .xdp, .xdpCPUMap, .xdpFragments),
            .init("xdp/cpumap", .exact, .xdp, .xdpCPUMap),
            .init("xdp.frags", .exact, .xdp, .xdp, .xdpFragments),
            .init("xdp", .exact, .xdp, .xdp, optional),
            .init("perf_event", .exact, .perfEvent, nil),
            .init("lwt_in", .exact, .lightweightTunnelIn, nil),
            .init("lwt_out", .exact, .lightweightTunnelOut, nil),
            .init("lwt_xmit", .exact, .lightweightTunnelTransmit, nil),
            .init("lwt_seg6local", .exact, .lightweightTunnelSegment6Local, nil),
            .init("sockops", .exact, .socketOperations, .cgroupSocketOperations, optional),
            .init("sk_skb/stream_parser", .exact, .socketBuffer, .socketBufferStreamParser, optional),
            .init("sk_skb/stream_verdict", .exact, .socketBuffer, .socketBufferStreamVerdict, optional),
            .init("sk_skb/verdict", .exact, .socketBuffer, .socketBufferVerdict, optional),
            .init("sk_skb", .exact, .socketBuffer, nil),
            .init("sk_msg", .exact, .socketMessage, .socketMessageVerdict, optional),
            .init("lirc_mode2", .exact, .infraredMode2, .infraredMode2, optional),
            .init("flow_dissector", .exact, .flowDissector, .flowDissector, optional),
            .init("cgroup_skb/ingress", .exact, .cgroupSocketBuffer, .cgroupInetIngress, optional),
            .init("cgroup_skb/egress", .exact, .cgroupSocketBuffer, .cgroupInetEgress, optional),
            .init("cgroup/skb", .exact, .cgroupSocketBuffer, nil),
            .init("cgroup/sock_create", .exact, .cgroupSocket, .cgroupInetSocketCreate),
            .init("cgroup/sock_release", .exact, .cgroupSocket, .cgroupInetSocketRelease),
            .init("cgroup/sock", .exact, .cgroupSocket, .cgroupInetSocketCreate, optional),
            .init("cgroup/post_bind4", .exact, .cgroupSocket, .cgroupInet4PostBind),
            .init("cgroup/post_bind6", .exact, .cgroupSocket, .cgroupInet6PostBind),
            .init("cgroup/bind4", .exact, .cgroupSocketAddress, .cgroupInet4Bind),
            .init("cgroup/bind6", .exact, .cgroupSocketAddress, .cgroupInet6Bind),
            .init("cgroup/connect4", .exact, .cgroupSocketAddress, .cgroupInet4Connect),
            .init("cgroup/connect6", .exact, .cgroupSocketAddress, .cgroupInet6Connect),
            .init("cgroup/connect_unix", .exact, .cgroupSocketAddress, .cgroupUnixConnect),
            .init("cgroup/sendmsg4", .exact, .cgroupSocketAddress, .cgroupUDP4SendMessage),
            .init("cgroup/sendmsg6", .exact, .cgroupSocketAddress, .cgroupUDP6SendMessage),
            .init("cgroup/sendmsg_unix", .exact, .cgroupSocketAddress, .cgroupUnixSendMessage),
            .init("cgroup/recvmsg4", .exact, .cgroupSocketAddress, .cgroupUDP4ReceiveMessage),
            .init("cgroup/recvmsg6", .exact, .cgroupSocketAddress, .cgroupUDP6ReceiveMessage),
            .init("cgroup/recvmsg_unix", .exact, .cgroupSocketAddress, .cgroupUnixReceiveMessage),
            .init("cgroup/getpeername4", .exact, .cgroupSocketAddress, .cgroupInet4GetPeerName),
            .init("cgroup/getpeername6", .exact, .cgroupSocketAddress, .cgroupInet6GetPeerName),
            .init("cgroup/getpeername_unix", .exact, .cgroupSocketAddress, .cgroupUnixGetPeerName),
            .init("cgroup/getsockname4", .exact, .cgroupSocketAddress, .cgroupInet4GetSocketName),
            .init("cgroup/getsockname6", .exact, .cgroupSocketAddress, .cgroupInet6GetSocketName),
            .init("cgroup/getsockname_unix", .exact, .cgroupSocketAddress, .cgroupUnixGetSocketName),
            .init("cgroup/sysctl", .exact, .cgroupSysctl, .cgroupSysctl),
            .init("cgroup/getsockopt", .exact, .cgroupSocketOption, .cgroupGetSocketOption),
            .init("cgroup/setsockopt", .exact, .cgroupSocketOption, .cgroupSetSocketOption),
            .init("cgroup/dev", .exact, .cgroupDevice, .cgroupDevice, optional),
            .init("struct_ops", .prefixWithTarget, .structOperations, nil),
            .init("struct_ops.s", .prefixWithTarget, .structOperations, nil, sleepable),
            .init("sk_lookup", .exact, .socketLookup, .socketLookup),
            .init("netfilter", .exact, .netfilter, .netfilter),
        ]
    }()
}
