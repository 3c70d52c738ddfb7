/* regs_kept: write(1, "kept\n", 5) from inline asm that checks the six argument registers
 * after the syscall instruction: the x86_64 ABI changes only rax, rcx and r11. A tracer that
 * rewrites the call's arguments must give the program its own back. Prints what was written,
 * then "registers kept" and exits 0, or names the first register that changed and exits 3. */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

int main(void)
{
    static const char text[] = "kept\n";
    unsigned long long before[6] = {1, (unsigned long long)text, 5, 0x1010, 0x2020, 0x3030};
    unsigned long long after[6];
    long ret;
    __asm__ volatile("mov %[b3], %%r10\n\t"
                     "mov %[b4], %%r8\n\t"
                     "mov %[b5], %%r9\n\t"
                     "syscall\n\t"
                     "mov %%rdi, 0(%[a])\n\t"
                     "mov %%rsi, 8(%[a])\n\t"
                     "mov %%rdx, 16(%[a])\n\t"
                     "mov %%r10, 24(%[a])\n\t"
                     "mov %%r8, 32(%[a])\n\t"
                     "mov %%r9, 40(%[a])"
                     : "=a"(ret)
                     : "0"((long)SYS_write), "D"(before[0]), "S"(before[1]), "d"(before[2]),
                       [b3] "r"(before[3]), [b4] "r"(before[4]), [b5] "r"(before[5]),
                       [a] "r"(after)
                     : "rcx", "r11", "r10", "r8", "r9", "memory");
    static const char *names[6] = {"rdi", "rsi", "rdx", "r10", "r8", "r9"};
    for (int i = 0; i < 6; i++) {
        if (after[i] != before[i]) {
            printf("\n%s changed: %#llx, not %#llx\n", names[i], after[i], before[i]);
            return 3;
        }
    }
    printf("\nregisters kept (write returned %ld)\n", ret);
    return 0;
}
