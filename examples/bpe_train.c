/* examples/bpe_train.c - train a byte-level BPE tokenizer and measure it.
 *
 * A language-model pipeline needs a tokenizer: BPE learns, from a corpus,
 * which byte sequences deserve their own token. The program
 *   1. reads a corpus: a file given as argument, or the shipped Debian
 *      package descriptions (tests/data/debian/descriptions.txt.xz),
 *   2. holds out its last tenth and trains ds_bpe on the rest at growing
 *      vocabulary sizes, printing the training time and the compression
 *      on the held-out text (bytes per token: higher is better),
 *   3. prints the first merges and some long learnt tokens,
 *   4. encodes and decodes a sample (round trip checked) and saves and
 *      reloads the model (same encoding checked).
 * It exits non-zero if a round trip or a reload differs.
 *
 * Build and run from the repository root:
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/bpe_train.c -o bpe_train -lm
 *     ./bpe_train [CORPUS_FILE [VOCAB_SIZE ...]] */
#define _POSIX_C_SOURCE 200809L /* popen */
#define DS_IMPLEMENTATION
#include "ds_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(FILE *f, size_t *n) {
    size_t cap = 1 << 20, len = 0, got;
    char *p = (char *)malloc(cap);
    while (p && (got = fread(p + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap && !(p = (char *)realloc(p, cap *= 2))) break;
    }
    *n = len;
    return p;
}

static void show(const ds_bpe *b, uint32_t id) {
    size_t n = 0, i;
    const unsigned char *t = ds_bpe_token(b, id, &n);
    putchar('"');
    for (i = 0; i < n; i++) {
        if (t[i] == '\n') printf("\\n");
        else if (t[i] < 32) printf("\\x%02x", t[i]);
        else putchar(t[i]);
    }
    putchar('"');
}

int main(int argc, char **argv) {
    size_t sizes[8] = {300, 1000, 2000}, nsizes = 3, len, train, i, n, dl;
    char *text;
    FILE *f;
    ds_bpe b;
    uint32_t *ids;
    int bad = 0;
    if (argc > 1) {
        f = fopen(argv[1], "rb");
    } else {
        f = popen("xz -dc tests/data/debian/descriptions.txt.xz 2>/dev/null", "r");
    }
    if (!f) {
        fprintf(stderr, "bpe_train: cannot open the corpus\n");
        return 1;
    }
    text = slurp(f, &len);
    if (argc > 1) fclose(f);
    else pclose(f);
    if (!text || len < 1000) {
        fprintf(stderr, "bpe_train: corpus missing or too small (run from the repository root)\n");
        return 1;
    }
    if (argc > 2) {
        for (nsizes = 0; nsizes < 8 && (int)nsizes + 2 < argc; nsizes++) sizes[nsizes] = (size_t)atol(argv[nsizes + 2]);
    }
    train = len - len / 10;
    while (train < len && text[train] != '\n') train++; /* cut at a line */
    printf("corpus %zu bytes: training on %zu, holding out %zu\n", len, train, len - train);
    if (!(ids = (uint32_t *)malloc((len - train + 1) * sizeof *ids))) return 1;
    ds_bpe_init(&b, NULL);
    printf("%8s %10s %10s %14s\n", "vocab", "train ms", "tokens", "bytes/token");
    for (i = 0; i < nsizes; i++) {
        int64_t t0 = ds_now_ns();
        ds_status st = ds_bpe_train(&b, text, train, sizes[i], NULL);
        double ms = (double)(ds_now_ns() - t0) / 1e6;
        if (st != DS_OK) {
            fprintf(stderr, "train: %s\n", ds_strerror(st));
            return 1;
        }
        ds_bpe_encode(&b, text + train, len - train, ids, len - train + 1, &n);
        printf("%8zu %10.1f %10zu %14.3f\n", ds_bpe_vocab(&b), ms, n, (double)(len - train) / (double)n);
    }
    printf("first merges:");
    for (i = 0; i < 8 && i < ds_bpe_vocab(&b) - 256; i++) {
        printf(" ");
        show(&b, (uint32_t)(256 + i));
    }
    printf("\nlast merges:");
    for (i = ds_bpe_vocab(&b) > 264 ? ds_bpe_vocab(&b) - 8 : 256; i < ds_bpe_vocab(&b); i++) {
        printf(" ");
        show(&b, (uint32_t)i);
    }
    printf("\n");
    {
        const char *sample = "A fast, lightweight PDF viewer written in C, with Vim-like key bindings.";
        size_t sl = strlen(sample);
        char back[256];
        ds_bpe_encode(&b, sample, sl, ids, len - train + 1, &n);
        printf("sample, %zu bytes -> %zu tokens:", sl, n);
        for (i = 0; i < n; i++) {
            printf(" ");
            show(&b, ids[i]);
        }
        printf("\n");
        bad |= ds_bpe_decode(&b, ids, n, back, sizeof back, &dl) != DS_OK || dl != sl || memcmp(back, sample, sl) != 0;
        printf("decoded: %s\n", bad ? "MISMATCH" : "identical");
    }
    {
        ds_membuf m;
        ds_memsrc src;
        ds_reader r;
        ds_bpe back;
        uint32_t *ids2 = (uint32_t *)malloc((len - train + 1) * sizeof *ids2);
        size_t n1, n2;
        ds_membuf_init(&m, NULL);
        if (!ids2 || ds_bpe_save(&b, ds_membuf_writer(&m)) != DS_OK) return 1;
        r = ds_mem_reader(&src, m.data, m.len);
        if (ds_bpe_load(&back, &r, NULL) != DS_OK) return 1;
        ds_bpe_encode(&b, text + train, len - train, ids, len - train + 1, &n1);
        ds_bpe_encode(&back, text + train, len - train, ids2, len - train + 1, &n2);
        bad |= n1 != n2 || memcmp(ids, ids2, n1 * sizeof *ids) != 0;
        printf("model saved (%zu bytes) and reloaded: %s\n", m.len, bad ? "ENCODING DIFFERS" : "same encoding");
        ds_bpe_free(&back);
        ds_membuf_free(&m);
        free(ids2);
    }
    ds_bpe_free(&b);
    free(ids);
    free(text);
    return bad;
}
