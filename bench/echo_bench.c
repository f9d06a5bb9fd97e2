/*
 * The container side of the stdin latency benchmark (bench/stdio_latency.ts): copies each
 * byte of stdin to stdout at once, until end of file. It must never buffer: one read(2) and
 * one write(2) per byte, so that the caller measures the runtime's path, not stdio's.
 */
#include <unistd.h>

int main(void) {
  char c;
  while (read(0, &c, 1) == 1)
    if (write(1, &c, 1) != 1) return 1;
  return 0;
}
