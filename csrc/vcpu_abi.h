/*
 * vcpu_abi.h - what a VCpu host's stub (stub/vcpu.c) and its supervisor (vcpu.c) share.
 *
 * A VCpu host is a process forked by the supervisor that has shed everything but three
 * regions at fixed addresses, all from one memfd the supervisor maps too:
 *   code    (read+exec)  the stub: boot code, the trap handler, the signal restorer;
 *   control (read+write) the channel: state word (a futex), the trapped registers, the
 *           memory operations to apply before resuming, the host's fd table. With
 *           SP_PROTECT_MPROTECT it is PROT_NONE while guest code runs;
 *   stacks  (read+write) the boot stack and the signal stack the handler runs on.
 * Every syscall the guest makes outside the code range traps (seccomp RET_TRAP) to the
 * handler, as do its faults; the handler hands the trap to the supervisor and returns into
 * whatever context the supervisor asks for. Plain C only: the stub includes this too.
 */
#ifndef SPLITPRIV_VCPU_ABI_H
#define SPLITPRIV_VCPU_ABI_H

#include "splitpriv.h"

#define SP_VCPU_CODE_ADDR 0x6d0000000000ULL
#define SP_VCPU_CODE_SIZE 0x10000ULL
#define SP_VCPU_CTRL_ADDR (SP_VCPU_CODE_ADDR + SP_VCPU_CODE_SIZE)
#define SP_VCPU_CTRL_SIZE 0x20000ULL
#define SP_VCPU_STACK_ADDR (SP_VCPU_CTRL_ADDR + SP_VCPU_CTRL_SIZE)
#define SP_VCPU_STACK_SIZE 0x10000ULL /* the boot stack, then the signal stack */
#define SP_VCPU_BOOT_STACK_SIZE 0x4000ULL
#define SP_VCPU_END (SP_VCPU_STACK_ADDR + SP_VCPU_STACK_SIZE)
#define SP_VCPU_TOTAL (SP_VCPU_END - SP_VCPU_CODE_ADDR)

/* Entry points, as offsets in the code (stub/vcpu_entry.S puts them there). */
#define SP_VCPU_HANDLER_OFF 0
#define SP_VCPU_RESTORER_OFF 16
#define SP_VCPU_BOOT_OFF 32

#define SP_VCPU_SOCK_FD 3 /* the host's end of the fd-passing socket */
#define SP_VCPU_TASK_TOP 0x7ffffffff000ULL

/* The state word: who owns the control region right now. */
#define SP_VCPU_STATE_TRAPPED 1 /* the host waits in its handler: the supervisor's turn */
#define SP_VCPU_STATE_RUN 2     /* the supervisor has answered: the host's turn */

/* Read-only for the host, at SP_VCPU_CONFIG_OFF in the code region: the handler must know
 * whether to open the control region before it can read anything in it. */
#define SP_VCPU_CONFIG_OFF 0xF000
struct sp_vcpu_config {
    unsigned int protect;     /* SP_PROTECT_NONE or SP_PROTECT_MPROTECT */
    unsigned int spins;       /* how long the handler spins before it sleeps on the futex */
};

struct sp_vcpu_ctrl {
    volatile unsigned int state;
    unsigned int booted;
    /* The trap, written by the handler. */
    int kind;                 /* SP_TRAP_* */
    int signo, code, error;
    unsigned int arch;
    unsigned int op_index;    /* SP_TRAP_OPFAIL: the operation that failed */
    unsigned long long nr, args[6], addr;
    unsigned long long regs[SP_VCPU_NREGS]; /* ucontext greg order: r8 .. r15, rdi .. rip, eflags */
    /* What the supervisor asks for before the next resume, applied in order. */
    unsigned int nops;
    unsigned int filter_len; /* boot: instructions of the seccomp filter below */
    struct sp_vcpu_op ops[SP_VCPU_MAX_OPS];
    int fds[SP_VCPU_MAX_FDS];
    unsigned long long filter[4096]; /* struct sock_filter, 8 bytes each */
};

_Static_assert(sizeof(struct sp_vcpu_ctrl) <= SP_VCPU_CTRL_SIZE, "control region too small");

#endif
