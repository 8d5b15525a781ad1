/* WASI C hello world: libc start-up, one write to stdout, exit 0. */
#include <stdio.h>

int main(void) {
    fputs("hello\n", stdout);
    return 0;
}
