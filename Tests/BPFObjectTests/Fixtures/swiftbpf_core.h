/* The CO-RE builtins behind libbpf's bpf_core_read.h, under its macro names, written
 * for this project so that the CO-RE fixtures build with nothing but clang. Each macro
 * makes clang record one relocation of the kind in its comment. */
#ifndef SWIFTBPF_CORE_H
#define SWIFTBPF_CORE_H

#define SEC(name) __attribute__((section(name), used))
#define __core __attribute__((preserve_access_index))
#define __noinline __attribute__((noinline))

/* Field relocations: __builtin_preserve_field_info(field, kind). */
#define bpf_core_field_offset(field) __builtin_preserve_field_info(field, 0) /* byte_off */
#define bpf_core_field_size(field) __builtin_preserve_field_info(field, 1)   /* byte_sz */
#define bpf_core_field_exists(field) __builtin_preserve_field_info(field, 2) /* field_exists */
#define bpf_core_field_signed(field) __builtin_preserve_field_info(field, 3) /* signed */
#define bpf_core_field_lshift(field) __builtin_preserve_field_info(field, 4) /* lshift_u64 */
#define bpf_core_field_rshift(field) __builtin_preserve_field_info(field, 5) /* rshift_u64 */

/* Type relocations. */
#define bpf_core_type_id_local(type) __builtin_btf_type_id(*(typeof(type) *)0, 0)       /* local_type_id */
#define bpf_core_type_id_kernel(type) __builtin_btf_type_id(*(typeof(type) *)0, 1)      /* target_type_id */
#define bpf_core_type_exists(type) __builtin_preserve_type_info(*(typeof(type) *)0, 0)  /* type_exists */
#define bpf_core_type_size(type) __builtin_preserve_type_info(*(typeof(type) *)0, 1)    /* type_size */
#define bpf_core_type_matches(type) __builtin_preserve_type_info(*(typeof(type) *)0, 2) /* type_matches */

/* Enum value relocations. */
#define bpf_core_enum_value_exists(type, value) \
    __builtin_preserve_enum_value(*(typeof(type) *)value, 0) /* enumval_exists */
#define bpf_core_enum_value(type, value) \
    __builtin_preserve_enum_value(*(typeof(type) *)value, 1) /* enumval_value */

/* A field read as libbpf's BPF_CORE_READ_BITFIELD does: load the bytes that hold it,
 * then shift it into place with the relocated shifts. */
#define bpf_core_read_bitfield(source, field) ({                                      \
    unsigned long long __value = 0;                                                   \
    unsigned int __size = bpf_core_field_size((source)->field);                       \
    const void *__at = (const void *)(source) + bpf_core_field_offset((source)->field); \
    switch (__size) {                                                                 \
    case 1: __value = *(const unsigned char *)__at; break;                            \
    case 2: __value = *(const unsigned short *)__at; break;                           \
    case 4: __value = *(const unsigned int *)__at; break;                             \
    case 8: __value = *(const unsigned long long *)__at; break;                       \
    }                                                                                 \
    __value <<= bpf_core_field_lshift((source)->field);                               \
    bpf_core_field_signed((source)->field)                                            \
        ? (unsigned long long)((long long)__value >> bpf_core_field_rshift((source)->field)) \
        : __value >> bpf_core_field_rshift((source)->field);                          \
})

#endif
