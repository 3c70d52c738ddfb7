/* int80_open PATH: a 64-bit program that calls the i386 open (number 5)
 * through "int $0x80" on PATH (copied below 4 GiB with MAP_32BIT, since
 * ebx only carries 32 bits), prints "int80 open ret=<eax as int>\n" and
 * exits 0. The fd is deliberately left open: the only syscalls after the
 * int $0x80 are write and exit_group. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "";
    size_t len = strlen(path) + 1;
    char msg[64];
    char *low;
    int ret;

    low = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
               -1, 0);
    if (low == MAP_FAILED || (uintptr_t)low + len > UINT32_MAX)
        return 2;
    memcpy(low, path, len);
    ret = 5; /* __NR_open on i386 */
    __asm__ volatile("int $0x80"
                     : "+a"(ret)
                     : "b"((uint32_t)(uintptr_t)low), "c"(0) /* O_RDONLY */, "d"(0)
                     : "r8", "r9", "r10", "r11", "memory", "cc");
    int n = snprintf(msg, sizeof msg, "int80 open ret=%d\n", ret);
    syscall(SYS_write, 1, msg, (size_t)n);
    return 0;
}
