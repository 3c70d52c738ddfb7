/* sigsys_self: ask for SIGSYS's disposition (sigaction with no new action), print
 * "query R handler H" (R: the call's result; H: "default" for SIG_DFL), set it to SIG_DFL and
 * print "default R", then raise(SIGSYS), whose default action ends the process. Prints
 * "survived" if it comes back. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    struct sigaction old;
    int r = sigaction(SIGSYS, NULL, &old);
    printf("query %d handler %s\n", r, old.sa_handler == SIG_DFL ? "default" : "other");
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    printf("default %d\n", sigaction(SIGSYS, &dfl, NULL));
    fflush(stdout);
    raise(SIGSYS);
    printf("survived\n");
    return 0;
}
