/* alloc: mallocs argv[1] MiB (default 1), writes to every page of it, prints "ok <n> MiB".
 * If the allocation fails (memory limit reached) it prints to stderr and exits with 2. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1;
  size_t size = (size_t)mib * 1024 * 1024;
  volatile unsigned char *p = malloc(size);
  if (p == NULL) {
    fprintf(stderr, "alloc: out of memory allocating %lu MiB\n", mib);
    return 2;
  }
  for (size_t i = 0; i < size; i += 4096) p[i] = (unsigned char)(i / 4096);
  unsigned long sum = 0;
  for (size_t i = 0; i < size; i += 4096) sum += p[i];
  printf("ok %lu MiB (checksum %lu)\n", mib, sum);
  return 0;
}
