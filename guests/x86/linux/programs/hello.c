/*
 * Test program for the Linux x86 guest: a static i386 binary (gcc -m32 -static) that prints its arguments,
 * counts the lines and bytes of stdin, writes a file into its working directory and exits with the status given
 * by `--exit N` (0 otherwise). `--spin` loops forever, for time-limit tests. `--cat PATH` (repeatable) then
 * prints each file's size and bytes, for the task's input files in its working directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void cat(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { printf("file %s: missing\n", path); return; }
  char buf[4096];
  size_t n, total = 0;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) total += n;
  printf("file %s (%lu bytes):\n", path, (unsigned long)total);
  rewind(f);
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
  fclose(f);
}

int main(int argc, char **argv) {
  int status = 0;
  printf("hello from i386 linux, argc=%d\n", argc);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc) status = atoi(argv[i + 1]);
    if (strcmp(argv[i], "--spin") == 0) for (volatile unsigned long n = 0;; n++) {}
    printf("arg[%d]=%s\n", i, argv[i]);
  }
  unsigned long lines = 0, bytes = 0;
  int c;
  while ((c = getchar()) != EOF) { bytes++; if (c == '\n') lines++; }
  printf("stdin: %lu lines, %lu bytes\n", lines, bytes);
  for (int i = 1; i + 1 < argc; i++) if (strcmp(argv[i], "--cat") == 0) cat(argv[i + 1]);
  FILE *f = fopen("result.txt", "w");
  if (f) { fprintf(f, "lines=%lu bytes=%lu\n", lines, bytes); fclose(f); }
  return status;
}
