/*
 * primes: counts the primes below argv[1] (default 1000000) by trial division; compute-bound on purpose.
 * Fixed 32-bit arithmetic, so a wasm32 build and a native x86-64 build do the same divisions (with
 * `unsigned long` the native build would divide 64-bit numbers and the comparison would not be like for like).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int is_prime(uint32_t n) {
  if (n < 2) return 0;
  for (uint32_t d = 2; d * d <= n; d++)
    if (n % d == 0) return 0;
  return 1;
}

int main(int argc, char **argv) {
  uint32_t limit = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000u;
  if (limit > 4000000000u) limit = 4000000000u;
  uint32_t count = 0;
  for (uint32_t n = 2; n < limit; n++) count += is_prime(n);
  printf("%" PRIu32 " primes below %" PRIu32 "\n", count, limit);
  return 0;
}
