// BTF fixture: one of every BTF kind, for the BTF parser tests (compiled by the test with
// clang -target bpf -O2 -g). Checks: int encodings, bitfields (kind_flag), union, signed
// enum, enum64, struct and union forward declarations, typedef, const, volatile, restrict,
// static/global/extern functions and variables, a variadic prototype, data sections, float,
// decl tags on a struct, a member, a function and a parameter, and type tags.
#define SEC(name) __attribute__((section(name), used))
#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user __attribute__((btf_type_tag("user")))

typedef unsigned long long u64;
typedef unsigned int u32;

struct opaque;        /* forward struct */
union opaque_union;   /* forward union */

enum color { RED = -1, GREEN = 0, BLUE = 7 };
enum big { SMALL = 1, HUGE = 0x1234567890ULL };

struct flags {
    unsigned int a : 3;
    unsigned int b : 5;
    int c : 12;
    u64 wide;
    _Bool on;
    char letter;
    signed char tiny;
} __tag("flags_tag");

union number {
    int i;
    float f;
    double d;
    u64 raw;
};

struct node {
    struct node *next;
    struct opaque *hidden;
    union opaque_union *hidden_union;
    const volatile int counter;
    int values[4][3] __tag("member_tag");
    int __user *user_pointer;
    enum color color;
    enum big big;
    union number number;
    struct flags flags;
};

typedef int (*printer)(const char *format, ...);

struct node global_node;
static volatile int static_counter SEC(".data.counters") = 3;
const float pi = 3.14f;
double ratio = 2.5;
printer print_function;
long double quad;
extern int external_value __attribute__((weak));
extern int kernel_function(int x) __attribute__((section(".ksyms")));

static __attribute__((noinline)) int helper(struct node *restrict node __tag("param_tag"), int *restrict out) {
    *out = node->values[1][2] + static_counter;
    return node->flags.c;
}

__attribute__((noinline)) __tag("func_tag") int global_function(struct node *node) {
    int out = 0;
    return helper(node, &out) + out + (external_value ? 1 : 0);
}

SEC("xdp") int program(void *context) {
    return global_function(&global_node) + kernel_function(1) + (print_function != 0);
}

char LICENSE[] SEC("license") = "GPL";
