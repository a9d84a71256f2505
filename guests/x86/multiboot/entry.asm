; Multiboot (v0.1) entry for Nephele's freestanding x86 guest. The loader (v86 here, or GRUB) enters in 32-bit
; protected mode with flat segments; we only need a stack before calling the C code in guest.c.
bits 32

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00000002            ; ask for the memory map; the ELF headers give the load address
MB_CHECKSUM equ -(MB_MAGIC + MB_FLAGS)

section .multiboot
align 4
    dd MB_MAGIC
    dd MB_FLAGS
    dd MB_CHECKSUM

section .bss
align 16
stack_bottom:
    resb 65536
stack_top:

section .text
global _start
extern guest_main
_start:
    cli
    mov esp, stack_top
    push ebx                       ; multiboot info
    push eax                       ; loader magic (0x2BADB002)
    call guest_main
.halt:
    cli
    hlt
    jmp .halt
