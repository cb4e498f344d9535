import ArgumentParser
import BPFLinux
import Foundation

struct LinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract: "Inspect the bpf_links in the kernel, as bpftool link does.",
        discussion: """
            A link is a program attached to a hook (tracepoint, XDP, cgroup...) that lasts as long \
            as a descriptor or pin holds it.

            Examples:
              swiftbpf link list
              swiftbpf link list --json
            """,
        subcommands: [LinkListCommand.self])
}

struct LinkListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List every link (bpftool link list).")

    @Flag(help: "Print the result as JSON.") var json = false

    /// bpftool's names for `enum bpf_link_type`.
    static let typeNames = ["unspec", "raw_tracepoint", "tracing", "cgroup", "iter", "netns", "xdp", "perf_event",
                            "kprobe_multi", "struct_ops", "netfilter", "tcx", "uprobe_multi", "netkit", "sockmap"]

    func run() throws {
        var links: [LinkInfo] = []
        for id in try kernelIDs(.link) {
            guard let fd = try? SystemCall.fileDescriptor(of: .link, id: id) else { continue }
            defer { fd.close() }
            if let info = try? SystemCall.linkInfo(fd: fd.rawValue) { links.append(info) }
        }
        func typeName(_ info: LinkInfo) -> String {
            info.type < Self.typeNames.count ? Self.typeNames[Int(info.type)] : "type \(info.type)"
        }
        if json {
            print(try jsonText(links.map { ["id": $0.id, "type": typeName($0), "prog_id": $0.programID] as [String: Any] }))
        } else {
            for link in links { print("\(link.id): \(typeName(link))  prog \(link.programID)") }
        }
    }
}
