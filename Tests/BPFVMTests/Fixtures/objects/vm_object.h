// What the VM's object fixtures share: the project's C header for eBPF programs (section and
// map macros, the helpers by the kernel's numbers) and tc's verdicts.
#ifndef VM_OBJECT_H
#define VM_OBJECT_H

#include "../../../../Plugins/BPFCompilerPlugin/include/swiftbpf/helpers.h"
#include <linux/pkt_cls.h>

#endif
