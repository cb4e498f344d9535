// C header fixture: types that stress the BTF-to-C writer, for BTFCHeaderTests — pointer
// cycles that need forward declarations, bitfields, packed and over-aligned structs
// (explicit padding), arrays of arrays, function pointers returning function pointers,
// typedefs of prototypes, anonymous structs, unions and enums inlined, an enum64, a
// one-byte enum, an empty struct, qualifiers, a type tag
// and two different structs of the same name. Compiled with clang -target bpf -g; every
// type is reached from a used global or function.
typedef int (*handler_t)(void *ctx, int flags);
typedef void callback_fn(int code);
typedef unsigned long long u64;

struct node;
struct list {
    struct node *head;
    struct list *self;
    u64 count;
};
struct node {
    struct list *owner;
    struct node *next;
    int value;
};

struct bits {
    unsigned int a : 3;
    unsigned int b : 5;
    int c : 10;
    unsigned long long d : 40;
    char e;
    unsigned short f : 4;
};

struct packed_thing {
    char c;
    int i;
    long long l;
} __attribute__((packed));

struct aligned_thing {
    char c;
    long long l __attribute__((aligned(16)));
    char tail;
};

struct grid {
    int cells[3][4][5];
    char names[2][8];
    const char *labels[4];
};

struct ops {
    int (*open)(const char *name, int mode);
    void (*close)(void);
    handler_t handlers[4];
    callback_fn *callback;
    int (*(*factory)(int kind))(long value);
    void (*variadic)(const char *format, ...);
};

struct nested {
    struct {
        int x;
        union {
            int y;
            float f;
        };
    } inner;
    enum { NESTED_A, NESTED_B = 5 } kind;
    union {
        long l;
        char bytes[8];
    } u;
    struct {
        struct nested *parent;
    } *link;
};

enum wide64 { WIDE_SMALL = 1, WIDE_BIG = 0x100000000ULL };
enum __attribute__((packed)) tiny { TINY_A, TINY_B };
enum signed_values { SIGNED_MINUS = -1, SIGNED_PLUS = 1 };

struct empty {};

struct qualified {
    const volatile int *cv;
    int *restrict r;
    const char *const names[2];
    struct empty nothing;
    enum tiny small;
    enum wide64 wide;
};

struct tagged {
    int __attribute__((btf_type_tag("user"))) *user_pointer;
};

int use_first(struct dup { int a; } *value) { return value->a; }
long use_second(struct dup { long b; char c; } *value) { return value->b; }

struct list list_value __attribute__((used));
struct node node_value __attribute__((used));
struct bits bits_value __attribute__((used));
struct packed_thing packed_value __attribute__((used));
struct aligned_thing aligned_value __attribute__((used));
struct grid grid_value __attribute__((used));
struct ops ops_value __attribute__((used));
struct nested nested_value __attribute__((used));
struct qualified qualified_value __attribute__((used));
struct tagged tagged_value __attribute__((used));
enum signed_values signed_value __attribute__((used));
