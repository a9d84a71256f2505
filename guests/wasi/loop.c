/* loop: never returns (for time-limit tests). The volatile keeps the compiler from removing the loop. */
int main(void) {
  volatile unsigned long spins = 0;
  for (;;) spins++;
}
