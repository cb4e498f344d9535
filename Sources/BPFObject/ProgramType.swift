/// The kernel's program types (`enum bpf_prog_type` in linux/bpf.h); the raw value is the
/// number bpf(2) takes. `netfilter` comes after the enum of older headers, as upstream numbers it.
public enum ProgramType: UInt32, Sendable, Hashable, CaseIterable {
    case unspecified = 0
    case socketFilter, kprobe, schedulerClassifier, schedulerAction, tracepoint, xdp, perfEvent
    case cgroupSocketBuffer, cgroupSocket, lightweightTunnelIn, lightweightTunnelOut, lightweightTunnelTransmit
    case socketOperations, socketBuffer, cgroupDevice, socketMessage, rawTracepoint, cgroupSocketAddress
    case lightweightTunnelSegment6Local, infraredMode2, socketReuseport, flowDissector, cgroupSysctl
    case rawTracepointWritable, cgroupSocketOption, tracing, structOperations, `extension`, lsm
    case socketLookup, syscall, netfilter

    /// The kernel's name, without `BPF_PROG_TYPE_` (as bpftool prints it, lowercased).
    public var kernelName: String {
        switch self {
        case .unspecified: "unspec"
        case .socketFilter: "socket_filter"
        case .kprobe: "kprobe"
        case .schedulerClassifier: "sched_cls"
        case .schedulerAction: "sched_act"
        case .tracepoint: "tracepoint"
        case .xdp: "xdp"
        case .perfEvent: "perf_event"
        case .cgroupSocketBuffer: "cgroup_skb"
        case .cgroupSocket: "cgroup_sock"
        case .lightweightTunnelIn: "lwt_in"
        case .lightweightTunnelOut: "lwt_out"
        case .lightweightTunnelTransmit: "lwt_xmit"
        case .socketOperations: "sock_ops"
        case .socketBuffer: "sk_skb"
        case .cgroupDevice: "cgroup_device"
        case .socketMessage: "sk_msg"
        case .rawTracepoint: "raw_tracepoint"
        case .cgroupSocketAddress: "cgroup_sock_addr"
        case .lightweightTunnelSegment6Local: "lwt_seg6local"
        case .infraredMode2: "lirc_mode2"
        case .socketReuseport: "sk_reuseport"
        case .flowDissector: "flow_dissector"
        case .cgroupSysctl: "cgroup_sysctl"
        case .rawTracepointWritable: "raw_tracepoint_writable"
        case .cgroupSocketOption: "cgroup_sockopt"
        case .tracing: "tracing"
        case .structOperations: "struct_ops"
        case .extension: "ext"
        case .lsm: "lsm"
        case .socketLookup: "sk_lookup"
        case .syscall: "syscall"
        case .netfilter: "netfilter"
        }
    }
}

/// The kernel's attach types (`enum bpf_attach_type`); the raw value is the number bpf(2)
/// takes as `expected_attach_type`. Types past `lsmCgroup` are numbered as upstream's UAPI
/// header numbers them, which older system headers do not list yet.
public enum AttachType: UInt32, Sendable, Hashable, CaseIterable {
    case cgroupInetIngress = 0, cgroupInetEgress, cgroupInetSocketCreate, cgroupSocketOperations
    case socketBufferStreamParser, socketBufferStreamVerdict, cgroupDevice, socketMessageVerdict
    case cgroupInet4Bind, cgroupInet6Bind, cgroupInet4Connect, cgroupInet6Connect
    case cgroupInet4PostBind, cgroupInet6PostBind, cgroupUDP4SendMessage, cgroupUDP6SendMessage
    case infraredMode2, flowDissector, cgroupSysctl, cgroupUDP4ReceiveMessage, cgroupUDP6ReceiveMessage
    case cgroupGetSocketOption, cgroupSetSocketOption, traceRawTracepoint, traceFentry, traceFexit
    case modifyReturn, lsmMAC, traceIterator, cgroupInet4GetPeerName, cgroupInet6GetPeerName
    case cgroupInet4GetSocketName, cgroupInet6GetSocketName, xdpDevmap, cgroupInetSocketRelease
    case xdpCPUMap, socketLookup, xdp, socketBufferVerdict, socketReuseportSelect
    case socketReuseportSelectOrMigrate, perfEvent, traceKprobeMulti, lsmCgroup
    case structOperations, netfilter, tcxIngress, tcxEgress, traceUprobeMulti
    case cgroupUnixConnect, cgroupUnixSendMessage, cgroupUnixReceiveMessage, cgroupUnixGetPeerName
    case cgroupUnixGetSocketName, netkitPrimary, netkitPeer, traceKprobeSession, traceUprobeSession
    case traceFsession, traceFentryMulti, traceFexitMulti, traceFsessionMulti

    /// The kernel's name, without `BPF_`, lowercased.
    public var kernelName: String {
        switch self {
        case .cgroupInetIngress: "cgroup_inet_ingress"
        case .cgroupInetEgress: "cgroup_inet_egress"
        case .cgroupInetSocketCreate: "cgroup_inet_sock_create"
        case .cgroupSocketOperations: "cgroup_sock_ops"
        case .socketBufferStreamParser: "sk_skb_stream_parser"
        case .socketBufferStreamVerdict: "sk_skb_stream_verdict"
        case .cgroupDevice: "cgroup_device"
        case .socketMessageVerdict: "sk_msg_verdict"
        case .cgroupInet4Bind: "cgroup_inet4_bind"
        case .cgroupInet6Bind: "cgroup_inet6_bind"
        case .cgroupInet4Connect: "cgroup_inet4_connect"
        case .cgroupInet6Connect: "cgroup_inet6_connect"
        case .cgroupInet4PostBind: "cgroup_inet4_post_bind"
        case .cgroupInet6PostBind: "cgroup_inet6_post_bind"
        case .cgroupUDP4SendMessage: "cgroup_udp4_sendmsg"
        case .cgroupUDP6SendMessage: "cgroup_udp6_sendmsg"
        case .infraredMode2: "lirc_mode2"
        case .flowDissector: "flow_dissector"
        case .cgroupSysctl: "cgroup_sysctl"
        case .cgroupUDP4ReceiveMessage: "cgroup_udp4_recvmsg"
        case .cgroupUDP6ReceiveMessage: "cgroup_udp6_recvmsg"
        case .cgroupGetSocketOption: "cgroup_getsockopt"
        case .cgroupSetSocketOption: "cgroup_setsockopt"
        case .traceRawTracepoint: "trace_raw_tp"
        case .traceFentry: "trace_fentry"
        case .traceFexit: "trace_fexit"
        case .modifyReturn: "modify_return"
        case .lsmMAC: "lsm_mac"
        case .traceIterator: "trace_iter"
        case .cgroupInet4GetPeerName: "cgroup_inet4_getpeername"
        case .cgroupInet6GetPeerName: "cgroup_inet6_getpeername"
        case .cgroupInet4GetSocketName: "cgroup_inet4_getsockname"
        case .cgroupInet6GetSocketName: "cgroup_inet6_getsockname"
        case .xdpDevmap: "xdp_devmap"
        case .cgroupInetSocketRelease: "cgroup_inet_sock_release"
        case .xdpCPUMap: "xdp_cpumap"
        case .socketLookup: "sk_lookup"
        case .xdp: "xdp"
        case .socketBufferVerdict: "sk_skb_verdict"
        case .socketReuseportSelect: "sk_reuseport_select"
        case .socketReuseportSelectOrMigrate: "sk_reuseport_select_or_migrate"
        case .perfEvent: "perf_event"
        case .traceKprobeMulti: "trace_kprobe_multi"
        case .lsmCgroup: "lsm_cgroup"
        case .structOperations: "struct_ops"
        case .netfilter: "netfilter"
        case .tcxIngress: "tcx_ingress"
        case .tcxEgress: "tcx_egress"
        case .traceUprobeMulti: "trace_uprobe_multi"
        case .cgroupUnixConnect: "cgroup_unix_connect"
        case .cgroupUnixSendMessage: "cgroup_unix_sendmsg"
        case .cgroupUnixReceiveMessage: "cgroup_unix_recvmsg"
        case .cgroupUnixGetPeerName: "cgroup_unix_getpeername"
        case .cgroupUnixGetSocketName: "cgroup_unix_getsockname"
        case .netkitPrimary: "netkit_primary"
        case .netkitPeer: "netkit_peer"
        case .traceKprobeSession: "trace_kprobe_session"
        case .traceUprobeSession: "trace_uprobe_session"
        case .traceFsession: "trace_fsession"
        case .traceFentryMulti: "trace_fentry_multi"
        case .traceFexitMulti: "trace_fexit_multi"
        case .traceFsessionMulti: "trace_fsession_multi"
        }
    }
}
