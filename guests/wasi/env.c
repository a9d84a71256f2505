/* env: prints each environment variable as NAME=value on its own line, in the order the host passed them. */
#include <stdio.h>

extern char **environ;

int main(void) {
  for (char **e = environ; *e; e++) puts(*e);
  return 0;
}
