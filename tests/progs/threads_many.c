/* threads_many N M [ADDR]: N threads, each calling getppid M times; prints "done N*M". With
 * ADDR (hex), it then reads a byte there, as peek does: once every thread has left the stub,
 * its privileged-only data must be out of reach again. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static long calls;

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < calls; i++)
        syscall(SYS_getppid);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 16;
    calls = argc > 2 ? atol(argv[2]) : 10000;
    pthread_t threads[256];
    if (n < 1 || n > 256)
        return 2;
    for (int i = 0; i < n; i++)
        if (pthread_create(&threads[i], NULL, worker, NULL) != 0)
            return 1;
    for (int i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
    char line[64];
    int len = snprintf(line, sizeof(line), "done %ld\n", (long)n * calls);
    if (write(1, line, (size_t)len) != len)
        return 1;
    if (argc > 3) {
        volatile const char *addr = (const char *)strtoull(argv[3], NULL, 16);
        char byte = *addr;
        (void)byte;
    }
    return 0;
}
