/* A CPU-bound kernel of fixed work: count the primes below n with a sieve of Eratosthenes.
 *
 * One source, three builds: a WASI command (main prints kernel(KERNEL_N)), a module whose
 * exported kernel(n) is called in-process, and a native program (gcc -O2) for the native floor.
 * The printed result must be the same in all three; that is a correctness check, not a timing.
 */
#include <stdio.h>
#include <string.h>

#ifndef KERNEL_N
#define KERNEL_N 2000000
#endif

#define KERNEL_MAX 4000000

#if defined(__wasm__)
#define KERNEL_EXPORT __attribute__((export_name("kernel")))
#else
#define KERNEL_EXPORT
#endif

static unsigned char composite[KERNEL_MAX + 1];

KERNEL_EXPORT int kernel(int n) {
    if (n < 2) {
        return 0;
    }
    if (n > KERNEL_MAX) {
        n = KERNEL_MAX;
    }
    memset(composite, 0, (size_t)n + 1);
    int count = 0;
    for (int i = 2; i <= n; i++) {
        if (composite[i]) {
            continue;
        }
        count++;
        for (long long j = (long long)i * i; j <= n; j += i) {
            composite[j] = 1;
        }
    }
    return count;
}

int main(void) {
    printf("%d\n", kernel(KERNEL_N));
    return 0;
}
