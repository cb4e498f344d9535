// CO-RE fixture: relocations libbpf refuses or must disambiguate, for COREErrorTests,
// against Fixtures/core-edge-target.c. Each program holds one case, so that each can
// be relocated (and fail) on its own.
#include "swiftbpf_core.h"

struct pair { int first; int second; } __core;      /* target: two flavors disagree on `second` */
struct twin { int a; int b; } __core;               /* target: three flavors, two agree */
struct sizes { int value; } __core;                 /* target: flavors of different sizes */
struct far { int x; } __core;                       /* target: x past 32 KiB */
struct wide { unsigned long long v : 60; } __core;  /* target: spans 9 bytes, no single load */

unsigned long long sink[8];

SEC("fentry/ambiguous_offset") int ambiguous_offset(struct pair *p) {
    sink[0] = p->second;
    return 0;
}

SEC("fentry/agreeing") int agreeing(struct twin *t) {
    sink[1] = t->b;
    sink[2] = bpf_core_field_exists(t->a);
    return 0;
}

SEC("fentry/ambiguous_value") int ambiguous_value(struct sizes *s) {
    sink[3] = bpf_core_field_size(s->value);
    return 0;
}

SEC("fentry/far") int far_away(struct far *f) {
    sink[4] = f->x;                                 /* a load: its offset does not fit */
    sink[5] = bpf_core_field_offset(f->x);          /* an immediate: it does */
    return 0;
}

SEC("fentry/wide") int wide_bitfield(struct wide *w) {
    sink[6] = bpf_core_field_lshift(w->v);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
