/* The VCpu stub's fixed entry points (offsets in vcpu_abi.h): the trap handler at 0, the
 * restorer at 16, the boot code at 32 (entered with rsp already on the boot stack). */
    .section .text.entry,"ax",@progbits
    .globl sp_vcpu_entry
sp_vcpu_entry:
    jmp sp_vcpu_handler
    .balign 16
    .globl sp_vcpu_restorer
sp_vcpu_restorer:
    movl $15, %eax          /* rt_sigreturn */
    syscall
    ud2
    .balign 16
    .globl sp_vcpu_boot_entry
sp_vcpu_boot_entry:
    and $-16, %rsp
    call sp_vcpu_boot
    ud2
    .section .note.GNU-stack,"",@progbits
