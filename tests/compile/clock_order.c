/* tests/compile/clock_order.c - ds_now_ns() is the monotonic nanosecond
 * clock even when a system header comes before ds.h in the implementation
 * file under strict -std=c99 / -std=c11 (which hides clock_gettime). Built
 * and run by make check-headers; exits nonzero on a coarse clock. */
#include <stdio.h>
#include <time.h>
#define DS_IMPLEMENTATION
#include "ds.h"

int main(void) {
    int64_t t0 = ds_now_ns(), t1, w0 = ds_wall_ns();
    int i;
    /* a clock with 1 s ticks (time()) would need up to a second to move */
    for (i = 0; i < 1000000 && (t1 = ds_now_ns()) == t0; i++) {}
    if (t1 <= t0 || t1 - t0 > 10 * DS_MS) {
        fprintf(stderr, "clock_order: ds_now_ns moved %lld ns\n", (long long)(t1 - t0));
        return 1;
    }
    /* the wall clock is the Unix epoch's: after 2020, before 2200 */
    if (w0 < INT64_C(1577836800) * DS_SEC || w0 > INT64_C(7258118400) * DS_SEC) {
        fprintf(stderr, "clock_order: ds_wall_ns %lld\n", (long long)w0);
        return 1;
    }
    return 0;
}
