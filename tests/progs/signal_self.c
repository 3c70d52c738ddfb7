/* signal_self [die]: install a SIGUSR1 handler (sigaction, SA_RESTART)
 * that writes "handled\n", then kill(getpid(), SIGUSR1); exit 0.
 * With "die": afterwards reset SIGTERM to SIG_DFL and
 * kill(getpid(), SIGTERM), so the process dies by SIGTERM. */
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void on_usr1(int sig)
{
    static const char msg[] = "handled\n";
    (void)sig;
    syscall(SYS_write, 1, msg, sizeof msg - 1);
}

int main(int argc, char **argv)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        return 1;
    if (kill(getpid(), SIGUSR1) != 0)
        return 1;
    if (argc > 1 && strcmp(argv[1], "die") == 0) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGTERM, &sa, NULL) != 0)
            return 1;
        kill(getpid(), SIGTERM);
        return 1; /* not reached */
    }
    return 0;
}
