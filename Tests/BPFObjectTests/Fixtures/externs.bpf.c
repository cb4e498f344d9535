// Object-file fixture: externs. .kconfig values of every kind libbpf allows (int, bool,
// tristate, char array), a weak one, typed and untyped .ksyms variables and a kfunc call.
// ObjectExternTests checks their layout in the .kconfig map and the relocations.
#include "swiftbpf_helpers.h"

struct task_struct;
struct rq { int cpu; };

extern __u32 LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig;
extern _Bool CONFIG_BPF_JIT __kconfig __weak;
extern enum libbpf_tristate CONFIG_BPF_LSM __kconfig __weak;
extern char CONFIG_DEFAULT_HOSTNAME[8] __kconfig __weak;
extern __u64 CONFIG_NR_CPUS __kconfig __weak;
extern const void bpf_prog_active __ksym;
extern const struct rq runqueues __ksym;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

SEC("tp_btf/sched_switch") int use_externs(void *ctx) {
    int total = LINUX_KERNEL_VERSION + CONFIG_HZ + CONFIG_BPF_JIT + CONFIG_BPF_LSM + CONFIG_DEFAULT_HOSTNAME[0];
    total += CONFIG_NR_CPUS + (long)&bpf_prog_active + (long)&runqueues;
    struct task_struct *task = bpf_task_acquire(0);
    if (task) bpf_task_release(task);
    return total;
}

char LICENSE[] SEC("license") = "GPL";
