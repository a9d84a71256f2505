/*
 * wc: counts lines, words and bytes like `wc`. Without arguments it reads stdin and prints
 * "<lines> <words> <bytes>"; with file arguments (input files in the preopened directory) it prints
 * "<lines> <words> <bytes> <name>" per file, and exits 1 if a file cannot be opened.
 */
#include <ctype.h>
#include <stdio.h>

static void count(FILE *in, const char *name) {
  unsigned long lines = 0, words = 0, bytes = 0;
  int in_word = 0, c;
  while ((c = getc(in)) != EOF) {
    bytes++;
    if (c == '\n') lines++;
    if (isspace(c)) in_word = 0;
    else if (!in_word) { in_word = 1; words++; }
  }
  if (name) printf("%lu %lu %lu %s\n", lines, words, bytes, name);
  else printf("%lu %lu %lu\n", lines, words, bytes);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    count(stdin, NULL);
    return 0;
  }
  int status = 0;
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "r");
    if (!f) {
      fprintf(stderr, "wc: cannot open %s\n", argv[i]);
      status = 1;
      continue;
    }
    count(f, argv[i]);
    fclose(f);
  }
  return status;
}
