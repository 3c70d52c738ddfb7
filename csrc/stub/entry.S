/* The stub's fixed entry points (offsets in stub_abi.h): the SIGSYS handler at 0, the
 * restorer at 16; then the clone cells. */
#include "../stub_cells.h"

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

/*
 * The clone cells: where the stub makes a call that creates a task on a stack of its own (a
 * thread) or on its parent's (vfork), which cannot return through the handler. The handler
 * pushes the program's return address on its slot's clone return stack (and, for a new stack,
 * writes it just under the child's stack pointer too), then returns into cell `slot` of the
 * right family, with the program's registers: the cell's syscall instruction lies in the
 * stub's range, which the filters and Syscall User Dispatch let through. After the call, rcx
 * and r11 are free (the syscall instruction clobbers them for the program anyway), and rcx,
 * the address after the cell's syscall, names the slot:
 * - the parent (rax != 0) pops its address from the slot's stack;
 * - a child on a new stack (rax == 0) takes it from under its stack pointer: it must not read
 *   the slot, which its parent may already have used again;
 * - a vfork child reads the slot's top without popping it: its parent waits in the kernel.
 * Flags are not preserved across the cell (libc declares them clobbered by a syscall).
 */
    .balign SP_STUB_CLONE_CELL_SIZE
    .globl sp_stub_clone_cells
    .hidden sp_stub_clone_cells
sp_stub_clone_cells:            /* the new-stack family; a cell: 2 + at most 5 bytes, padded */
    .rept SP_STUB_SLOTS
    syscall
    jmp clone_new_stack
    .balign SP_STUB_CLONE_CELL_SIZE, 0xcc
    .endr
    .globl sp_stub_clone_cells_shared
    .hidden sp_stub_clone_cells_shared
sp_stub_clone_cells_shared:                     /* the vfork family */
    .rept SP_STUB_SLOTS
    syscall
    jmp clone_shared_stack
    .balign SP_STUB_CLONE_CELL_SIZE, 0xcc
    .endr

clone_new_stack:
    test %rax, %rax
    jnz 1f
    jmp *-8(%rsp)
1:  lea sp_stub_clone_cells+2(%rip), %r11
    jmp clone_return
clone_shared_stack:
    lea sp_stub_clone_cells_shared+2(%rip), %r11
clone_return:
    sub %r11, %rcx
    shr $SP_STUB_CLONE_CELL_SHIFT, %rcx         /* the slot */
    shl $6, %rcx                                /* its record: 64 bytes */
    movabs $SP_STUB_CLONE_RETURN_AT, %r11
    add %rcx, %r11
    mov (%r11), %rcx                            /* the depth */
    mov (%r11,%rcx,8), %rcx                     /* the top address */
    test %rax, %rax
    jz 2f                                       /* a vfork child leaves it to its parent */
    decq (%r11)                                 /* popped only once read: see stub.c */
2:  jmp *%rcx
    .section .note.GNU-stack,"",@progbits
