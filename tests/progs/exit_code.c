/* exit_code [N]: exit with status N (default 0). */
#include <stdlib.h>

int main(int argc, char **argv)
{
    return argc > 1 ? (int)strtol(argv[1], NULL, 10) : 0;
}
