/* exit_while_logging N: N threads call getppid without end; after 20 ms the main thread calls
 * exit_group(0). The workers die wherever they are, inside the stub's ring push too. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void *worker(void *arg)
{
    (void)arg;
    for (;;)
        syscall(SYS_getppid);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4;
    pthread_t thread;
    for (int i = 0; i < n; i++)
        if (pthread_create(&thread, NULL, worker, NULL) != 0)
            return 1;
    struct timespec wait = {0, 20 * 1000 * 1000};
    nanosleep(&wait, NULL);
    syscall(SYS_exit_group, 0);
    return 0;
}
