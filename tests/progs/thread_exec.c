/* thread_exec [PROGRAM]: main starts a pthread, reads the byte it writes to a pipe (so the
 * thread runs, and a tracer knows it, before main goes on) and waits in pause(); the thread
 * sleeps 50 ms (main is in pause by then) and calls execl(PROGRAM, PROGRAM's basename)
 * (default /bin/true): the kernel ends main, and the thread goes on as the new image under
 * main's pid. PROGRAM's exit status (0 for /bin/true); 1 if the thread could not start or
 * exec. */
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *program = "/bin/true";
static int ready[2];

static void *worker(void *arg)
{
    struct timespec pause_reached = {0, 50 * 1000 * 1000};
    const char *base = strrchr(program, '/');

    (void)arg;
    if (write(ready[1], "x", 1) != 1)
        _exit(1);
    nanosleep(&pause_reached, NULL);
    execl(program, base ? base + 1 : program, (char *)NULL);
    _exit(1);
}

int main(int argc, char **argv)
{
    pthread_t t;
    char byte;

    if (argc > 1)
        program = argv[1];
    if (pipe(ready) != 0 || pthread_create(&t, NULL, worker, NULL) != 0)
        return 1;
    if (read(ready[0], &byte, 1) != 1)
        return 1;
    pause();
    return 1;
}
