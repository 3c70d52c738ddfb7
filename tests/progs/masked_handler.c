/* masked_handler MODE: a SIGUSR1 handler that makes a call (getppid, then a write) while a
 * mask blocking every signal is in force, SIGSYS included; prints "handled MODE" and exits 0.
 * MODE says where the mask comes from:
 *   sigaction   the handler's sa_mask (sigfillset): the signal is left pending while all
 *               are blocked, then sigprocmask(SIG_SETMASK, empty) lets it in (what dash's
 *               SIGCHLD handler meets after every command);
 *   sigsuspend  the mask rt_sigsuspend waits with (all but SIGUSR1);
 *   ppoll       the mask ppoll waits with (all but SIGUSR1).
 * Under the stub mechanisms a blocked SIGSYS at any of those calls (or at the handler's
 * rt_sigreturn) would make the kernel kill the process. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
    static const char msg[] = "in handler\n";
    (void)sig;
    syscall(SYS_getppid);
    syscall(SYS_write, 1, msg, sizeof msg - 1);
    handled = 1;
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    sigset_t all, wait_mask, none;
    const char *mode = argc > 1 ? argv[1] : "sigaction";

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigfillset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        return 1;
    sigfillset(&all);
    sigemptyset(&none);
    wait_mask = all;
    sigdelset(&wait_mask, SIGUSR1);
    if (sigprocmask(SIG_SETMASK, &all, NULL) != 0 || kill(getpid(), SIGUSR1) != 0)
        return 1;
    if (strcmp(mode, "sigaction") == 0)
        sigprocmask(SIG_SETMASK, &none, NULL);
    else if (strcmp(mode, "sigsuspend") == 0)
        sigsuspend(&wait_mask);
    else if (strcmp(mode, "ppoll") == 0) {
        struct timespec forever = {60, 0};
        ppoll(NULL, 0, &forever, &wait_mask);
    } else
        return 2;
    sigprocmask(SIG_SETMASK, &none, NULL);
    printf("handled %s\n", handled ? mode : "never");
    return 0;
}
