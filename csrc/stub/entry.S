/* The stub's fixed entry points (offsets in stub_abi.h): the SIGSYS handler at 0, the
 * restorer at 16. */
    .section .text.entry,"ax",@progbits
    .globl sp_stub_entry
sp_stub_entry:
    jmp sp_stub_handler
    .balign 16
    .globl sp_stub_restorer
sp_stub_restorer:
    movl $15, %eax          /* rt_sigreturn: 5 bytes */
    syscall
    ud2
    .section .note.GNU-stack,"",@progbits
