// CO-RE fixture: the "kernel" for Fixtures/core-edge.bpf.c. Flavors (name___suffix) all
// stand for the program's type of the essential name: pair's disagree on where `second`
// is, twin's agree on `b` (one lacks it), sizes' agree on where `value` is but not on
// its size; far puts `x` beyond what a load's 16-bit offset reaches; wide packs a
// 60-bit field after a byte, where no 8-byte load covers it.
struct pair___a { int first; int second; };         /* second at 4 */
struct pair___b { int second; int first; };         /* second at 0 */
struct twin___x { int a; int b; };
struct twin___y { int a; int b; long extra; };
struct twin___z { long c; };                        /* no b: does not match */
struct sizes___a { int value; };
struct sizes___b { long value; };
struct far { char pad[40000]; int x; };
struct wide { char c; unsigned long long v : 60; } __attribute__((packed));

struct pair___a pa __attribute__((used));
struct pair___b pb __attribute__((used));
struct twin___x tx __attribute__((used));
struct twin___y ty __attribute__((used));
struct twin___z tz __attribute__((used));
struct sizes___a sa __attribute__((used));
struct sizes___b sb __attribute__((used));
struct far f __attribute__((used));
struct wide w __attribute__((used));
