/* alarm_calls N [US]: N raw getppid calls while an interval timer fires SIGALRM every US
 * microseconds (20 unless given: a traced program under a tracer's signal stops needs more); the
 * handler makes one raw getpid call. Prints "handled H" (the handler's runs) at the end.
 * Under a stub mechanism the handler often runs inside the stub's own handler (its calls trap
 * there too), so its events are pushed while an outer push may be half done. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static volatile long handled;

static void on_alarm(int sig)
{
    (void)sig;
    syscall(SYS_getpid);
    handled++;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) != 0)
        return 1;
    long us = argc > 2 ? atol(argv[2]) : 20;
    struct itimerval every = {{0, us}, {0, us}}, off = {{0, 0}, {0, 0}};
    if (setitimer(ITIMER_REAL, &every, NULL) != 0)
        return 1;
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    setitimer(ITIMER_REAL, &off, NULL);
    printf("handled %ld\n", handled);
    return 0;
}
