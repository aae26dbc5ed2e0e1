/* The display benchmark's guest: a boot sector that sets the std VGA's Bochs VBE mode 1024x768x32 and fills the
 * whole screen with new pseudo-random pixels (xorshift32) frame after frame, through the 64 KiB banked window. Noise
 * is the worst case for every viewer's compression. A byte on COM1 switches the pace: 's' draws one frame per
 * further byte (for the delay), 'f' draws freely (for the throughput). */
.code16
.globl _start
_start:
  cli
  xor %ax, %ax
  mov %ax, %ds
  mov %ax, %ss
  mov $0x7c00, %sp
  mov $4, %bx
  xor %cx, %cx
  call vbe
  mov $1, %bx
  mov $1024, %cx
  call vbe
  mov $2, %bx
  mov $768, %cx
  call vbe
  mov $3, %bx
  mov $32, %cx
  call vbe
  mov $4, %bx
  mov $1, %cx
  call vbe
  mov $0xa000, %ax
  mov %ax, %es
  mov $0x12345678, %ebx
frame:
  mov $0x3fd, %dx
  in %dx, %al
  test $1, %al
  jz paint
  mov $0x3f8, %dx
  in %dx, %al
  mov %al, mode
paint:
  cmpb $'s', mode
  jne draw
wait:
  mov $0x3fd, %dx
  in %dx, %al
  test $1, %al
  jz wait
  mov $0x3f8, %dx
  in %dx, %al
  cmp $'f', %al
  jne draw
  mov %al, mode
draw:
  xor %si, %si
bank:
  push %bx
  mov $5, %bx
  mov %si, %cx
  call vbe
  pop %bx
  xor %di, %di
  mov $16384, %cx
pixel:
  mov %ebx, %eax
  shl $13, %eax
  xor %eax, %ebx
  mov %ebx, %eax
  shr $17, %eax
  xor %eax, %ebx
  mov %ebx, %eax
  shl $5, %eax
  xor %eax, %ebx
  mov %ebx, %eax
  stosl
  loop pixel
  inc %si
  cmp $48, %si
  jb bank
  jmp frame
vbe:
  mov $0x1ce, %dx
  mov %bx, %ax
  out %ax, %dx
  mov $0x1cf, %dx
  mov %cx, %ax
  out %ax, %dx
  ret
mode: .byte 'f'
  .org 510
  .word 0xaa55
