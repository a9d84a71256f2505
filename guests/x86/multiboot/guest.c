/*
 * Nephele's freestanding x86 guest (multiboot, no BIOS, no OS): the fast lane for x86 tasks in v86.
 * It speaks the guest protocol of src/compute/x86-guest-protocol.ts over COM1:
 *   - with a multiboot command line it runs that command at once;
 *   - without one it prints "@@NEPHELE READY@@" and reads one command line from COM1 (this is where the
 *     booted snapshot is taken, so a restored guest only waits for its command);
 *   - it ends every command with "\n@@NEPHELE EXIT <status>@@\n" and halts.
 * Commands: hello | echo <words> | primes <n> | sum <n> | exit <status> | loop (never ends; for time limits).
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;

#define COM1 0x3F8
#define LINE_MAX 4096

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void serial_init(void) {
  outb(COM1 + 1, 0x00); /* no interrupts: we poll */
  outb(COM1 + 3, 0x80); /* DLAB */
  outb(COM1 + 0, 0x01); /* 115200 baud */
  outb(COM1 + 1, 0x00);
  outb(COM1 + 3, 0x03); /* 8N1 */
  outb(COM1 + 2, 0xC7); /* FIFO */
  outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void putc_serial(char c) {
  while ((inb(COM1 + 5) & 0x20) == 0) {}
  outb(COM1, (u8)c);
}

static void puts_serial(const char *s) { while (*s) putc_serial(*s++); }

static void putu(u32 n) {
  char buf[11];
  int i = 0;
  do { buf[i++] = (char)('0' + n % 10); n /= 10; } while (n);
  while (i) putc_serial(buf[--i]);
}

static int getc_serial(void) {
  while ((inb(COM1 + 5) & 0x01) == 0) {}
  return inb(COM1);
}

/*
 * Without SeaBIOS nobody programs the PCI BARs, and v86 keeps the IDE controller's I/O BARs at 1, which makes a
 * later restore_state fail (see docs V86.md). Zero the I/O BARs of every IDE controller on bus 0.
 */
static void pci_zero_ide_bars(void) {
  for (u32 dev = 0; dev < 32; dev++) {
    u32 addr = 0x80000000u | (dev << 11);
    outl(0xCF8, addr);
    if ((inl(0xCFC) & 0xFFFF) == 0xFFFF) continue;
    outl(0xCF8, addr | 0x08);
    if ((inl(0xCFC) >> 16) != 0x0101) continue; /* class: mass storage / IDE */
    for (u32 bar = 0; bar < 4; bar++) {
      outl(0xCF8, addr | (0x10 + bar * 4));
      outl(0xCFC, 0);
    }
  }
}

static int streq_prefix(const char *s, const char *word, const char **rest) {
  while (*word) if (*s++ != *word++) return 0;
  if (*s != 0 && *s != ' ') return 0;
  while (*s == ' ') s++;
  *rest = s;
  return 1;
}

static u32 parse_u32(const char *s) {
  u32 n = 0;
  while (*s >= '0' && *s <= '9') n = n * 10 + (u32)(*s++ - '0');
  return n;
}

#define SIEVE_MAX (8u * 1024 * 1024)
static u8 composite[SIEVE_MAX / 8 + 1];

static u32 count_primes(u32 n) {
  if (n > SIEVE_MAX) n = SIEVE_MAX;
  u32 count = 0;
  for (u32 i = 2; i <= n; i++) {
    if (composite[i >> 3] & (1u << (i & 7))) continue;
    count++;
    for (u32 j = i * 2; j <= n; j += i) composite[j >> 3] |= (u8)(1u << (j & 7));
  }
  return count;
}

static u32 run(const char *cmd) {
  const char *rest;
  if (streq_prefix(cmd, "hello", &rest)) { puts_serial("hello from the multiboot guest\n"); return 0; }
  if (streq_prefix(cmd, "echo", &rest)) { puts_serial(rest); putc_serial('\n'); return 0; }
  if (streq_prefix(cmd, "primes", &rest)) {
    u32 n = parse_u32(rest);
    puts_serial("primes up to "); putu(n); puts_serial(": "); putu(count_primes(n)); putc_serial('\n');
    return 0;
  }
  if (streq_prefix(cmd, "sum", &rest)) {
    u32 n = parse_u32(rest), s = 0;
    for (u32 i = 1; i <= n; i++) s += i;
    puts_serial("sum 1.."); putu(n); puts_serial(" = "); putu(s); putc_serial('\n');
    return 0;
  }
  if (streq_prefix(cmd, "exit", &rest)) return parse_u32(rest);
  if (streq_prefix(cmd, "loop", &rest)) { for (volatile u32 i = 0;; i++) {} }
  puts_serial("unknown command: "); puts_serial(cmd); putc_serial('\n');
  return 127;
}

struct multiboot_info { u32 flags, mem_lower, mem_upper, boot_device, cmdline; };

void guest_main(u32 magic, const struct multiboot_info *info) {
  static char line[LINE_MAX + 1];
  serial_init();
  pci_zero_ide_bars();
  const char *cmd = 0;
  if (magic == 0x2BADB002u && (info->flags & 4) && info->cmdline && *(const char *)info->cmdline) {
    cmd = (const char *)info->cmdline;
  } else {
    puts_serial("@@NEPHELE READY@@\n");
    u32 len = 0;
    for (;;) {
      int c = getc_serial();
      if (c == '\n' || c == '\r') { if (len) break; continue; }
      if (len < LINE_MAX) line[len++] = (char)c;
    }
    line[len] = 0;
    cmd = line;
  }
  u32 status = run(cmd);
  puts_serial("\n@@NEPHELE EXIT "); putu(status); puts_serial("@@\n");
}
