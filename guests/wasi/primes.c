/* primes: counts the primes below argv[1] (default 1000000) by trial division; compute-bound on purpose. */
#include <stdio.h>
#include <stdlib.h>

static int is_prime(unsigned long n) {
  if (n < 2) return 0;
  for (unsigned long d = 2; d * d <= n; d++)
    if (n % d == 0) return 0;
  return 1;
}

int main(int argc, char **argv) {
  unsigned long limit = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000UL;
  unsigned long count = 0;
  for (unsigned long n = 2; n < limit; n++) count += is_prime(n);
  printf("%lu primes below %lu\n", count, limit);
  return 0;
}
