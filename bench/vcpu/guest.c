/*
 * guest.c - the guest of bench/vcpu: touch pages, yield, for ever.
 *
 * _start(table, k): writes one byte to each of the k pages listed in table, then makes
 * sched_yield (which traps to the VCpu's owner and is where the next switch happens), and
 * starts over. After a `remap` switch each touched page faults in again; under `process`
 * the pages stay mapped in the context's own host.
 */
void __attribute__((noreturn)) _start(volatile char **table, long k)
{
    for (;;) {
        for (long i = 0; i < k; i++)
            *table[i] = 1;
        long ret;
        __asm__ volatile("syscall" : "=a"(ret) : "0"(24L) : "rcx", "r11", "memory");
    }
}
