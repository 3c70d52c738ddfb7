/*
 * raw_syscall.h - a syscall instruction with no libc around it, for the code that runs where
 * libc cannot: the freestanding stubs (stub/stub.c, stub/vcpu.c) and the in-process SIGSYS
 * handler (unpriv.c), whose calls must come from its own code range.
 */
#ifndef SPLITPRIV_RAW_SYSCALL_H
#define SPLITPRIV_RAW_SYSCALL_H

static inline long sc6(long nr, unsigned long long a0, unsigned long long a1,
                       unsigned long long a2, unsigned long long a3, unsigned long long a4,
                       unsigned long long a5)
{
    long ret;
    register unsigned long long r10 __asm__("r10") = a3;
    register unsigned long long r8 __asm__("r8") = a4;
    register unsigned long long r9 __asm__("r9") = a5;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline long sc3(long nr, unsigned long long a0, unsigned long long a1,
                       unsigned long long a2)
{
    return sc6(nr, a0, a1, a2, 0, 0, 0);
}

#endif
