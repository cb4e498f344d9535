// CBPFLinux: the few things Swift cannot do by itself to talk to the kernel's eBPF
// subsystem — the bpf(2) and perf_event_open(2) system calls, ioctl (variadic in C),
// and atomic loads and stores with acquire/release order on memory shared with the
// kernel (ring buffer positions). Types and constants come from the UAPI headers.
#ifndef CBPFLINUX_H
#define CBPFLINUX_H

#ifdef __linux__
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>

/// bpf(2): returns the result, or -1 with errno set.
static inline long swiftbpf_bpf(int command, union bpf_attr *attr, unsigned int size) {
    return syscall(__NR_bpf, command, attr, size);
}

/// perf_event_open(2): returns a file descriptor, or -1 with errno set.
static inline int swiftbpf_perf_event_open(struct perf_event_attr *attr, int pid, int cpu, int group, unsigned long flags) {
    return (int)syscall(__NR_perf_event_open, attr, pid, cpu, group, flags);
}

/// ioctl(2) with an integer argument (PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_SET_BPF, ...).
static inline int swiftbpf_ioctl(int fd, unsigned long request, unsigned long argument) {
    return ioctl(fd, request, argument);
}

static inline int swiftbpf_errno(void) { return errno; }

static inline uint64_t swiftbpf_load_acquire_u64(const void *address) {
    return __atomic_load_n((const uint64_t *)address, __ATOMIC_ACQUIRE);
}
static inline uint32_t swiftbpf_load_acquire_u32(const void *address) {
    return __atomic_load_n((const uint32_t *)address, __ATOMIC_ACQUIRE);
}
static inline void swiftbpf_store_release_u64(void *address, uint64_t value) {
    __atomic_store_n((uint64_t *)address, value, __ATOMIC_RELEASE);
}

// ioctl request numbers are macros built from _IO/_IOW, which Swift does not import.
static const unsigned long SWIFTBPF_PERF_EVENT_IOC_ENABLE = PERF_EVENT_IOC_ENABLE;
static const unsigned long SWIFTBPF_PERF_EVENT_IOC_DISABLE = PERF_EVENT_IOC_DISABLE;
static const unsigned long SWIFTBPF_PERF_EVENT_IOC_SET_BPF = PERF_EVENT_IOC_SET_BPF;

// Attaching and reading events (links, ring and perf buffers). Swift's Glibc module
// leaves out epoll, which the readers wait with.
#include <stddef.h>
#include <sys/epoll.h>

/// Where the perf ring's positions live in the first mmap'd page.
static const unsigned long SWIFTBPF_PERF_MMAP_DATA_HEAD = offsetof(struct perf_event_mmap_page, data_head);
static const unsigned long SWIFTBPF_PERF_MMAP_DATA_TAIL = offsetof(struct perf_event_mmap_page, data_tail);
/// gettid(2): perf events and BPF programs see threads by this id.
static inline int swiftbpf_thread_id(void) { return (int)syscall(__NR_gettid); }
/// PERF_FLAG_FD_CLOEXEC is a macro with a shift, which Swift does not import.
static const unsigned long SWIFTBPF_PERF_FLAG_FD_CLOEXEC = PERF_FLAG_FD_CLOEXEC;

// Maps and pins: the bpf filesystem.
#include <sys/mount.h>
#include <sys/vfs.h>

/// statfs(2)'s f_type for `path` (BPF_FS_MAGIC for bpffs), or -1 with errno set.
static inline long swiftbpf_filesystem_type(const char *path) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    return (long)info.f_type;
}
#endif

#endif
