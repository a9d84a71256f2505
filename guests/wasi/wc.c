/* wc: counts lines, words and bytes of stdin and prints them like `wc`: "<lines> <words> <bytes>". */
#include <ctype.h>
#include <stdio.h>

int main(void) {
  unsigned long lines = 0, words = 0, bytes = 0;
  int in_word = 0, c;
  while ((c = getchar()) != EOF) {
    bytes++;
    if (c == '\n') lines++;
    if (isspace(c)) in_word = 0;
    else if (!in_word) { in_word = 1; words++; }
  }
  printf("%lu %lu %lu\n", lines, words, bytes);
  return 0;
}
