// cgroup sock and sock_addr hooks, attached by the test to a cgroup of its own:
// `sock_create` counts the sockets created in the cgroup (slot 0) and refuses IPv6 UDP
// ones; `connect4` counts IPv4 connects (slot 1) and sends those aimed at port 4242 to
// port 4243 instead.
#include "attach_helpers.h"

#define AF_INET6 10
#define SOCK_DGRAM 2
#define REDIRECTED_PORT 4242
#define NEW_PORT 4243

SEC("cgroup/sock_create")
int sock_create(struct bpf_sock *sock) {
    count(0, 1);
    return sock->family == AF_INET6 && sock->type == SOCK_DGRAM ? 0 : 1;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *address) {
    count(1, 1);
    // user_port is in network byte order.
    if (address->user_port == __builtin_bswap16(REDIRECTED_PORT)) address->user_port = __builtin_bswap16(NEW_PORT);
    return 1;
}
