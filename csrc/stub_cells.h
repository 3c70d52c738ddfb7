/*
 * stub_cells.h - the numbers of the stub's clone cells that stub/entry.S (assembly) and the C
 * side (stub_abi.h, stub/stub.c) share: plain #defines only, so that the assembler reads them
 * too. What the cells are for: stub/entry.S.
 */
#ifndef SPLITPRIV_STUB_CELLS_H
#define SPLITPRIV_STUB_CELLS_H

#define SP_STUB_SLOTS 1024          /* one cell of each family per slot */
#define SP_STUB_CLONE_CELL_SIZE 8   /* bytes of a cell: syscall, jmp, padding */
#define SP_STUB_CLONE_CELL_SHIFT 3  /* log2 of it */
/* The table of clone return stacks (struct sp_stub_clone_return, 64 bytes a slot): the data
 * region starts 64 KiB after the code (SP_STUB_DATA_ADDR), and the table after the slots. */
#define SP_STUB_CLONE_RETURN_AT 0x6e0000020000

#endif
