/* examples/idempotent_payments.c - charge once, however often the client
 * retries: idempotency keys with Stripe's semantics (ds_idem).
 *
 * A payment endpoint takes (account, Idempotency-Key, body). Clients retry
 * on timeouts, sometimes while the first attempt is still running, and
 * sometimes buggy clients reuse a key for a different body. The scenarios:
 *   1. a retry after success replays the stored response: one charge;
 *   2. a concurrent duplicate while the first is in flight: 409, retry;
 *   3. the same key with a different amount: 422, refused;
 *   4. the same key from another account: a different request entirely;
 *   5. the first attempt fails (card network down) and abandons the key:
 *      the retry runs and succeeds; one charge;
 *   6. the first worker stalls holding the key: after the lock timeout a
 *      retry takes it over, and when the stalled worker wakes up its
 *      fencing token is dead, so its late complete is refused.
 * The ledger counts real charges; the program exits 0 when every account
 * was charged exactly once per logical payment.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/idempotent_payments.c -o idempotent_payments -lm
 *     ./idempotent_payments */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <stdio.h>
#include <string.h>

#define SEC ((int64_t)1000000000)

static int g_charges;
static int g_network_down;

typedef struct request {
    const char *account, *key;
    int amount_cents;
} request;

static uint64_t fingerprint(const request *r) {
    return ds_hash_bytes(&r->amount_cents, sizeof r->amount_cents, 0x9a7);
}

/* Phase one: claim the key. Returns the HTTP status to send now, or 0 if
 * the caller should go on and charge (and then call finish with *token,
 * the fencing token that proves it still owns the key). */
static int begin(ds_idem *s, const request *r, int64_t now, uint64_t *token, char *out, size_t cap) {
    ds_idem_state st;
    const void *resp;
    size_t len;
    ds_status rc = ds_idem_begin(s, r->account, strlen(r->account), r->key, strlen(r->key),
                                 fingerprint(r), now, &st, token, &resp, &len);
    if (rc != DS_OK) {
        snprintf(out, cap, "503 %s", ds_strerror(rc));
        return 503;
    }
    switch (st) {
    case DS_IDEM_NEW: return 0;
    case DS_IDEM_IN_FLIGHT: snprintf(out, cap, "409 request in progress, retry later"); return 409;
    case DS_IDEM_MISMATCH: snprintf(out, cap, "422 key reused with a different request"); return 422;
    default: snprintf(out, cap, "%.*s (replayed)", (int)len, (const char *)resp); return 200;
    }
}
/* Phase two: the side effect, then record the outcome. */
static int charge_and_finish(ds_idem *s, const request *r, int64_t now, uint64_t token, char *out,
                             size_t cap) {
    if (g_network_down) {
        ds_idem_abandon(s, r->account, strlen(r->account), r->key, strlen(r->key), token);
        snprintf(out, cap, "502 card network unavailable");
        return 502;
    }
    g_charges++;
    snprintf(out, cap, "200 charged %s %d cents (charge #%d)", r->account, r->amount_cents, g_charges);
    if (ds_idem_complete(s, r->account, strlen(r->account), r->key, strlen(r->key), token, out,
                         strlen(out), now) != DS_OK)
        return 500;
    return 200;
}
static int handle(ds_idem *s, const request *r, int64_t now, char *out, size_t cap) {
    uint64_t token = 0;
    int code = begin(s, r, now, &token, out, cap);
    return code ? code : charge_and_finish(s, r, now, token, out, cap);
}

#define EXPECT(cond, what)                                      \
    do {                                                        \
        if (!(cond)) {                                          \
            fprintf(stderr, "FAILED: %s\n", what);              \
            return 1;                                           \
        }                                                       \
    } while (0)

int main(void) {
    ds_idem s;
    ds_idem_config cfg;
    char out[160];
    uint64_t tok = 0, dup = 0;
    ds_status rc;
    request pay = {"acct_42", "key-A", 1999};
    request other_amount = {"acct_42", "key-A", 5000};
    request other_account = {"acct_77", "key-A", 1999};
    request flaky = {"acct_42", "key-B", 700};
    request orphan = {"acct_42", "key-C", 300};
    int64_t t = 0;

    memset(&cfg, 0, sizeof cfg);
    cfg.lock_timeout = 30 * SEC; /* an in-flight claim older than this is presumed dead */
    if (ds_idem_init(&s, &cfg) != DS_OK) return 1;

    printf("1. first attempt:           %s\n", (handle(&s, &pay, t, out, sizeof out), out));
    printf("   retry after a timeout:   %s\n", (handle(&s, &pay, t += SEC, out, sizeof out), out));
    EXPECT(g_charges == 1, "a retry charged again");

    EXPECT(begin(&s, &flaky, t, &tok, out, sizeof out) == 0, "fresh key refused");
    printf("2. duplicate while running: %s\n", (begin(&s, &flaky, t + 1, &dup, out, sizeof out), out));
    g_network_down = 1;
    printf("5. the first attempt fails: %s\n", (charge_and_finish(&s, &flaky, t + 2, tok, out, sizeof out), out));
    g_network_down = 0;
    printf("   retry after the failure: %s\n", (handle(&s, &flaky, t += SEC, out, sizeof out), out));
    EXPECT(g_charges == 2, "the flaky payment was not charged exactly once");

    printf("3. same key, other amount:  %s\n", (handle(&s, &other_amount, t, out, sizeof out), out));
    EXPECT(g_charges == 2, "a mismatched request was charged");
    printf("4. same key, other account: %s\n", (handle(&s, &other_account, t, out, sizeof out), out));
    EXPECT(g_charges == 3, "the other account's payment was not charged");

    EXPECT(begin(&s, &orphan, t, &tok, out, sizeof out) == 0, "fresh key refused");
    printf("6. worker stalls; retry at +10 s: %s\n", (handle(&s, &orphan, t + 10 * SEC, out, sizeof out), out));
    printf("   retry at +31 s:                %s\n", (handle(&s, &orphan, t + 31 * SEC, out, sizeof out), out));
    EXPECT(g_charges == 4, "the orphaned payment was not taken over exactly once");
    /* The stalled worker wakes up and reports its own result: its fencing
     * token died with the takeover, so it cannot overwrite the new owner's. */
    rc = ds_idem_complete(&s, orphan.account, strlen(orphan.account), orphan.key, strlen(orphan.key), tok,
                          "stale", 5, t + 40 * SEC);
    printf("   the stalled worker's late complete: %s\n", ds_status_name(rc));
    EXPECT(rc != DS_OK, "a stale owner overwrote the result");

    printf("ledger: %d charges for 4 logical payments; %zu keys done, %zu in flight\n", g_charges,
           ds_idem_done(&s), ds_idem_in_flight(&s));
    ds_idem_free(&s);
    return 0;
}
