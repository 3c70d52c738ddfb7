/* two_threads: main starts two pthreads; each calls gettid once, then
 * getppid 10 times (raw syscalls); main joins both and prints
 * "threads done\n"; exit 0. */
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *worker(void *arg)
{
    (void)arg;
    syscall(SYS_gettid);
    for (int i = 0; i < 10; i++)
        syscall(SYS_getppid);
    return NULL;
}

int main(void)
{
    static const char msg[] = "threads done\n";
    pthread_t t[2];

    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, worker, NULL) != 0)
            return 1;
    for (int i = 0; i < 2; i++)
        if (pthread_join(t[i], NULL) != 0)
            return 1;
    syscall(SYS_write, 1, msg, sizeof msg - 1);
    return 0;
}
