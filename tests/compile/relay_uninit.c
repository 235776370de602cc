/* tests/compile/relay_uninit.c - issue 15: items popped from one ring and
 * pushed into another, the way user code relays them, must build warning-
 * free at every -O level. With GCC 12.2 at -O3, relay() below warned
 * "'x' may be used uninitialized" (the MPMC blocking pop's retry loop hid
 * that DS_OK means the item was written). check-headers compiles it with
 * -Werror at -O1, -O2, -O3 and -Os (compile only: relay() blocks on an
 * empty ring). The exact shape matters, main included (smaller variants
 * did not warn): keep it as it is. */
#define DS_IMPLEMENTATION
#include "ds_concurrent.h"

typedef struct job {
    int id;
    double w;
    char name[24];
} job;
DS_SPSC(jq, job)
DS_MPMC(mq, job)
DS_SPSC(iq, int)
DS_MPMC(imq, int)

int relay(jq *a, mq *b, iq *c, imq *d);
int relay(jq *a, mq *b, iq *c, imq *d) {
    job j;
    int x, n = 0;
    while (jq_pop(a, &j) == DS_OK) {
        if (mq_push(b, j) != DS_OK) break;
        n++;
    }
    while (mq_try_pop(b, &j) == DS_OK) {
        (void)jq_try_push(a, j);
        n++;
    }
    if (iq_pop_timeout(c, &x, 1000) == DS_OK) (void)imq_push(d, x);
    if (imq_pop(d, &x) == DS_OK) (void)iq_try_push(c, x);
    {
        job js[4];
        size_t got = 0;
        if (jq_pop_n(a, js, 4, &got) == DS_OK && got) (void)mq_push(b, js[0]);
    }
    return n;
}

int main(void) {
    jq a;
    mq b;
    iq c;
    imq d;
    jq_init(&a, 8);
    mq_init(&b, 8);
    iq_init(&c, 8);
    imq_init(&d, 8);
    return relay(&a, &b, &c, &d) < 0;
}
