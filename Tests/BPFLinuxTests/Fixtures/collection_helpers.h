// What the collection fixtures need from libbpf's headers, written out: section, map and
// extern macros, and the helpers and kfuncs they call.
#ifndef COLLECTION_HELPERS_H
#define COLLECTION_HELPERS_H

#include <linux/types.h>
#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, value) int (*name)[value]
#define __type(name, value) typeof(value) *name
#define __array(name, value) typeof(value) *name[]
#define __kconfig __attribute__((section(".kconfig")))
#define __ksym __attribute__((section(".ksyms")))
#define __weak __attribute__((weak))
#define LIBBPF_PIN_BY_NAME 1

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)BPF_FUNC_map_update_elem;
static long (*bpf_tail_call)(void *ctx, void *map, __u32 index) = (void *)BPF_FUNC_tail_call;
static void *(*bpf_this_cpu_ptr)(const void *percpu) = (void *)BPF_FUNC_this_cpu_ptr;
static __u64 (*bpf_get_current_task_btf)(void) = (void *)BPF_FUNC_get_current_task_btf;

#endif
