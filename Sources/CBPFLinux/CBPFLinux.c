// Intentionally empty: everything the shim offers is inline in CBPFLinux.h.
