// profile: CPU samples with their user and kernel stacks. A perf event (the CPU clock, at a
// given frequency, on every CPU) runs this at each sample; it counts samples by process and
// stack pair. Profile.swift reads the counts and the stacks.
#include "tools.h"

#define MAX_STACK_DEPTH 127

const volatile __s32 target_pid = 0;     // 0: every process
const volatile __u8 skip_user = 0;       // only kernel stacks
const volatile __u8 skip_kernel = 0;     // only user stacks

struct sample_key {
    __u32 pid;
    __s32 user_stack;       // stack id, or a negative errno (no user stack: a kernel thread)
    __s32 kernel_stack;
    char comm[TASK_COMM_LEN];
};

struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __uint(max_entries, 16384);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 40960);
    __type(key, struct sample_key);
    __type(value, __u64);
} samples SEC(".maps");

/// Samples not counted because the samples map was full.
__u64 lost_samples;

SEC("perf_event")
int profile_sample(void *context)
{
    __u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (target_pid && pid != target_pid)
        return 0;
    struct sample_key key = { .pid = pid };
    key.user_stack = skip_user ? -1 : bpf_get_stackid(context, &stacks, BPF_F_USER_STACK);
    key.kernel_stack = skip_kernel ? -1 : bpf_get_stackid(context, &stacks, 0);
    bpf_get_current_comm(key.comm, sizeof(key.comm));
    __u64 *count = bpf_map_lookup_elem(&samples, &key);
    if (count) {
        __sync_fetch_and_add(count, 1);
        return 0;
    }
    __u64 one = 1;
    if (bpf_map_update_elem(&samples, &key, &one, BPF_NOEXIST) && !bpf_map_lookup_elem(&samples, &key))
        __sync_fetch_and_add(&lost_samples, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
