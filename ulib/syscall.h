// ExOS's raw system-call stubs (ulib/usys.S), one per entry of
// SYSCALL_LIST in kernel/abi.h: sys_NAME(...) for each call NAME.
#ifndef EXOS_SYSCALL_H
#define EXOS_SYSCALL_H

#include "kernel/abi.h"

#define SYSCALL_PROTOTYPE(n, name, rtype, params) rtype sys_##name params;
SYSCALL_LIST(SYSCALL_PROTOTYPE)
#undef SYSCALL_PROTOTYPE

#endif
