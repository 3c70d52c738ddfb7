/* peek ADDR: read one byte at ADDR (hex) and print "peek ok"; a fault kills it (SIGSEGV).
 * Used to show that the stub's privileged-only data is out of reach of the program. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    syscall(SYS_getppid); /* one trap first: the handler can reach the data */
    volatile const char *addr = (const char *)strtoull(argv[1], NULL, 16);
    char byte = *addr;
    (void)byte;
    static const char msg[] = "peek ok\n";
    return write(1, msg, sizeof msg - 1) == sizeof msg - 1 ? 0 : 1;
}
