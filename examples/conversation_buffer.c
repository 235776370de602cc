/* examples/conversation_buffer.c - a chat history that keeps the last N turns,
 * and a latency window that keeps the last N samples.
 *
 * The Python this replaces:
 *
 *     class ConversationBuffer:
 *         def __init__(self, max_turns=10):
 *             self._messages = deque(maxlen=max_turns)
 *         def add(self, role, content):
 *             self._messages.append({"role": role, "content": content})
 *
 *     class SlidingWindowMetrics:
 *         def __init__(self, window_size=100):
 *             self._latencies = deque(maxlen=window_size)
 *
 * In C the deque is DS_DEQUE with set_maxlen. A full deque drops its oldest
 * element on push_back, exactly like Python's; the one difference is that C
 * has no garbage collector, so the message text we strdup'd must be freed
 * when a message falls out of the window. push_back_evict hands the dropped
 * message back for that.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -Wall -Wextra -I. examples/conversation_buffer.c -o conversation_buffer
 *     ./conversation_buffer
 * It checks its own results and exits 0 on success, 1 on any failure. */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Any failing ds call ends the demo with the library's own message. */
#define TRY(call)                                                               \
    do {                                                                        \
        ds_status st_ = (call);                                                 \
        if (st_ != DS_OK) {                                                     \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, \
                    ds_strerror(st_));                                          \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

/* Self-checks: the demo verifies what it prints. */
#define EXPECT(cond)                                                              \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

/* ---- part 1: conversation history ------------------------------------------ */

typedef struct message {
    const char *role; /* "system", "user", "assistant": string literals */
    char *content;    /* owned: allocated by add, freed when dropped */
} message;

DS_DEQUE(msgbuf, message)

static long live_strings; /* owned strings alive right now; 0 at the end */

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = (char *)malloc(n);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    memcpy(p, s, n);
    live_strings++;
    return p;
}
static void free_string(char *s) {
    if (!s) return;
    free(s);
    live_strings--;
}

typedef struct conversation {
    msgbuf messages;
    size_t dropped; /* messages that fell out of the window so far */
} conversation;

static void conversation_init(conversation *c, size_t max_turns) {
    msgbuf_init(&c->messages);
    c->dropped = 0;
    TRY(msgbuf_set_maxlen(&c->messages, max_turns));
}

/* Append a message; when the window is full the oldest message is dropped
 * and its text freed (Python's deque.append on a deque with maxlen). */
static ds_status conversation_add(conversation *c, const char *role, const char *content) {
    message m, old;
    int did_drop = 0;
    ds_status st;
    m.role = role;
    m.content = copy_string(content);
    st = msgbuf_push_back_evict(&c->messages, m, &old, &did_drop);
    if (st != DS_OK) { /* nothing was added, nothing dropped: free our copy */
        free_string(m.content);
        return st;
    }
    if (did_drop) {
        printf("    (window full: dropped the oldest message, %s: \"%s\")\n", old.role,
               old.content);
        free_string(old.content);
        c->dropped++;
    }
    return DS_OK;
}

/* A crude token count: whitespace-separated words. */
static size_t count_tokens(const char *s) {
    size_t n = 0;
    int in_word = 0;
    for (; *s; s++) {
        int space = *s == ' ' || *s == '\n' || *s == '\t';
        if (!space && !in_word) n++;
        in_word = !space;
    }
    return n;
}

static size_t conversation_tokens(const conversation *c) {
    size_t total = 0;
    DS_FOREACH(msgbuf, &c->messages, m) total += count_tokens(m->content);
    return total;
}

static void conversation_print(const conversation *c) {
    size_t i = 0;
    /* DS_FOREACH walks oldest to newest; m points at each message. */
    DS_FOREACH(msgbuf, &c->messages, m) {
        printf("    [%zu] %-9s %s\n", i++, m->role, m->content);
    }
}

static void conversation_free(conversation *c) {
    message m;
    /* The deque does not know its elements own memory: pop and free each. */
    while (msgbuf_pop_front(&c->messages, &m) == DS_OK) free_string(m.content);
    msgbuf_free(&c->messages);
}

static const struct {
    const char *role, *content;
} script[] = {
    {"system", "You are a helpful travel assistant."},
    {"user", "I want to visit Lisbon in May."},
    {"assistant", "May is lovely there: warm, not yet crowded."},
    {"user", "Where should I stay?"},
    {"assistant", "Alfama for charm, Chiado for convenience."},
    {"user", "How do I get from the airport?"},
    {"assistant", "The red metro line, about 20 minutes to the centre."},
    {"user", "Is a day trip to Sintra worth it?"},
    {"assistant", "Yes: take the train from Rossio and go early."},
    {"user", "Thanks, that is all I needed!"},
};
#define SCRIPT_LEN (sizeof script / sizeof script[0])
#define MAX_TURNS 4

static void demo_conversation(void) {
    conversation c;
    size_t i, expect_tokens = 0;
    message *oldest, *newest;

    printf("== Conversation history: deque with maxlen %d ==\n", MAX_TURNS);
    conversation_init(&c, MAX_TURNS);
    for (i = 0; i < SCRIPT_LEN; i++) {
        printf("add #%zu %s: \"%s\"\n", i + 1, script[i].role, script[i].content);
        TRY(conversation_add(&c, script[i].role, script[i].content));
        EXPECT(msgbuf_len(&c.messages) == (i + 1 < MAX_TURNS ? i + 1 : MAX_TURNS));
    }

    printf("\nThe window now holds the last %zu of %zu messages (%zu dropped):\n",
           msgbuf_len(&c.messages), (size_t)SCRIPT_LEN, c.dropped);
    conversation_print(&c);

    /* Index access: at(0) is the oldest message kept, at(len - 1) the newest. */
    oldest = msgbuf_at(&c.messages, 0);
    newest = msgbuf_at(&c.messages, msgbuf_len(&c.messages) - 1);
    EXPECT(oldest != NULL && newest != NULL);
    printf("at(0), the oldest kept:  %s: \"%s\"\n", oldest->role, oldest->content);
    printf("at(%zu), the newest:       %s: \"%s\"\n", msgbuf_len(&c.messages) - 1,
           newest->role, newest->content);
    EXPECT(msgbuf_at(&c.messages, MAX_TURNS) == NULL); /* past the end: NULL */

    /* Check the window is exactly the last MAX_TURNS lines of the script. */
    EXPECT(msgbuf_len(&c.messages) == MAX_TURNS);
    EXPECT(c.dropped == SCRIPT_LEN - MAX_TURNS);
    for (i = 0; i < MAX_TURNS; i++) {
        const message *m = msgbuf_at(&c.messages, i);
        size_t s = SCRIPT_LEN - MAX_TURNS + i;
        EXPECT(strcmp(m->role, script[s].role) == 0);
        EXPECT(strcmp(m->content, script[s].content) == 0);
        expect_tokens += count_tokens(script[s].content);
    }
    printf("token_count() of the window: %zu\n", conversation_tokens(&c));
    EXPECT(conversation_tokens(&c) == expect_tokens);
    EXPECT(live_strings == MAX_TURNS); /* the dropped ones were freed */

    conversation_free(&c);
    EXPECT(live_strings == 0);
    printf("freed the conversation: %ld message strings still allocated\n\n", live_strings);
}

/* ---- part 2: latency window ------------------------------------------------ */

DS_DEQUE(latwin, double)

#define WINDOW 20
#define SAMPLES 100

typedef struct latency_tracker {
    latwin samples; /* milliseconds, oldest first */
    double sum;     /* running sum of the window, updated on every push */
} latency_tracker;

static void tracker_init(latency_tracker *t, size_t window) {
    latwin_init(&t->samples);
    t->sum = 0;
    TRY(latwin_set_maxlen(&t->samples, window));
}

static void tracker_record(latency_tracker *t, double ms) {
    double dropped = 0;
    int did_drop = 0;
    TRY(latwin_push_back_evict(&t->samples, ms, &dropped, &did_drop));
    /* O(1) mean: add the new sample, subtract the one that fell out. */
    t->sum += ms - (did_drop ? dropped : 0.0);
}

static double tracker_mean(const latency_tracker *t) {
    size_t n = latwin_len(&t->samples);
    return n ? t->sum / (double)n : 0.0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Percentile p in [0, 1] the way the Python does it: sort a copy, take
 * sorted[min(int(n * p), n - 1)]. */
static double tracker_percentile(const latency_tracker *t, double p) {
    double sorted[WINDOW];
    size_t n = 0, idx;
    DS_FOREACH(latwin, &t->samples, x) sorted[n++] = *x;
    if (n == 0) return 0.0;
    qsort(sorted, n, sizeof sorted[0], cmp_double);
    idx = (size_t)((double)n * p);
    return sorted[idx < n ? idx : n - 1];
}

static void demo_latency(void) {
    latency_tracker t;
    double all[SAMPLES];
    ds_rng rng;
    size_t i;

    printf("== Latency window: the last %d of %d request latencies ==\n", WINDOW, SAMPLES);
    ds_rng_seed(&rng, 42);
    tracker_init(&t, WINDOW);
    for (i = 0; i < SAMPLES; i++) {
        /* 20-30 ms normally; one request in ten is slow (80-200 ms). */
        double ms = 20.0 + 10.0 * ds_rng_double(&rng);
        if (ds_rng_below(&rng, 10) == 0) ms = 80.0 + 120.0 * ds_rng_double(&rng);
        all[i] = ms;
        tracker_record(&t, ms);
        if ((i + 1) % 20 == 0) {
            printf("after %3zu requests: window %2zu, mean %6.2f ms, p50 %6.2f ms, p95 %6.2f ms\n",
                   i + 1, latwin_len(&t.samples), tracker_mean(&t),
                   tracker_percentile(&t, 0.50), tracker_percentile(&t, 0.95));
        }
    }

    /* Check against recomputing from the full history: the window must be
     * exactly the last WINDOW samples, in order. */
    {
        double sum = 0, last[WINDOW];
        size_t j;
        EXPECT(latwin_len(&t.samples) == WINDOW);
        for (j = 0; j < WINDOW; j++) {
            last[j] = all[SAMPLES - WINDOW + j];
            EXPECT(*latwin_at(&t.samples, j) == last[j]);
            sum += last[j];
        }
        EXPECT(tracker_mean(&t) - sum / WINDOW < 1e-9 && sum / WINDOW - tracker_mean(&t) < 1e-9);
        qsort(last, WINDOW, sizeof last[0], cmp_double);
        EXPECT(tracker_percentile(&t, 0.95) == last[(size_t)(WINDOW * 0.95)]);
        EXPECT(tracker_percentile(&t, 0.50) == last[WINDOW / 2]);
    }
    latwin_free(&t.samples);
    printf("window contents match a recomputation from the full history\n");
}

int main(void) {
    demo_conversation();
    demo_latency();
    printf("\nconversation_buffer: all checks passed\n");
    return 0;
}
