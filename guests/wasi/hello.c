/* hello: prints a greeting, then its arguments joined by spaces, then echoes stdin (if any). Exit 0. */
#include <stdio.h>

int main(int argc, char **argv) {
  puts("hello from nephele");
  for (int i = 1; i < argc; i++) printf(i > 1 ? " %s" : "%s", argv[i]);
  putchar('\n');
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
  return 0;
}
