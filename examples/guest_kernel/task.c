/*
 * task.c - a guest task for examples/guest_kernel/kernel.py: freestanding, no libc.
 *
 * _start(id, rounds): asks for its pid, then for each round bumps a counter in its own .bss,
 * writes one line and yields; then exits with status id. Every syscall it makes traps to the
 * guest kernel. Each task has its own address space, so each counter goes 1, 2, 3... even
 * though every task's counter is at the same virtual address.
 */
#define SYS_write 1
#define SYS_sched_yield 24
#define SYS_getpid 39
#define SYS_exit 60

static long counter;

static long sys3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

static int put(char *buf, int at, const char *s)
{
    while (*s)
        buf[at++] = *s++;
    return at;
}

static int num(char *buf, int at, long v)
{
    char digits[20];
    int n = 0;
    if (v < 0) {
        buf[at++] = '-';
        v = -v;
    }
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        buf[at++] = digits[--n];
    return at;
}

void __attribute__((noreturn)) _start(long id, long rounds)
{
    char line[96];
    long pid = sys3(SYS_getpid, 0, 0, 0);
    for (long round = 1; round <= rounds; round++) {
        counter++;
        int n = put(line, 0, "task ");
        n = num(line, n, id);
        n = put(line, n, " (pid ");
        n = num(line, n, pid);
        n = put(line, n, "): round ");
        n = num(line, n, round);
        n = put(line, n, ", counter ");
        n = num(line, n, counter);
        line[n++] = '\n';
        sys3(SYS_write, 1, (long)line, n);
        sys3(SYS_sched_yield, 0, 0, 0);
    }
    for (;;)
        sys3(SYS_exit, id, 0, 0);
}
