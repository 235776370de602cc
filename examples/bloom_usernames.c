/* examples/bloom_usernames.c - "is this username taken?" with a Bloom
 * filter in front of a real database.
 *
 * A sign-up form checks every keystroke's candidate name. Asking the
 * database each time costs a query; most candidates are free, and a Bloom
 * filter of the taken names answers those "definitely not taken" from
 * memory. Only a "maybe taken" goes to the database, which has the final
 * word (a false positive costs one query, never a wrong answer).
 *
 * The program builds an SQLite database of taken names (English words plus
 * numbered variants, or generated names without the word list), loads the
 * filter from the database, saves it to a file and loads it back as a
 * restarted service would, then replays a stream of sign-up checks and
 * counts the queries the filter saved. It exits 0 when every answer matched
 * the database's.
 *
 * Build and run from the repository root (Debian: apt-get install
 * libsqlite3-dev; the word list is the wamerican package, optional):
 *     cc -std=c99 -O2 -Wall -Wextra -I. examples/bloom_usernames.c -o bloom_usernames -lsqlite3 -lm
 *     ./bloom_usernames */
#define DS_IMPLEMENTATION
#include "ds.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAKEN 100000   /* names already registered */
#define CHECKS 200000  /* sign-up checks to replay */

static void die(const char *what, const char *why) {
    fprintf(stderr, "bloom_usernames: %s: %s\n", what, why);
    exit(1);
}

/* Name i of an endless deterministic supply: words from the list with a
 * numeric suffix after the first round, or "user<i>" without the list. */
static char **g_words;
static size_t g_nwords;
static void name_of(size_t i, char *out, size_t cap) {
    if (g_nwords == 0) snprintf(out, cap, "user%zu", i);
    else if (i < g_nwords) snprintf(out, cap, "%s", g_words[i]);
    else snprintf(out, cap, "%s%zu", g_words[i % g_nwords], i / g_nwords);
}

static void load_words(void) {
    FILE *f = fopen("/usr/share/dict/american-english", "r");
    char line[128];
    size_t cap = 0;
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        size_t l = strcspn(line, "\r\n'");
        if (l == 0 || line[l] == '\'') continue; /* skip possessives */
        line[l] = 0;
        if (g_nwords == cap) {
            cap = cap ? 2 * cap : 4096;
            g_words = (char **)realloc(g_words, cap * sizeof *g_words);
            if (!g_words) die("words", "out of memory");
        }
        g_words[g_nwords] = (char *)malloc(l + 1);
        if (!g_words[g_nwords]) die("words", "out of memory");
        memcpy(g_words[g_nwords++], line, l + 1);
    }
    fclose(f);
}

/* The authoritative check: one indexed lookup. */
static int db_taken(sqlite3_stmt *q, const char *name) {
    int rc, taken;
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) die("query", "step failed");
    taken = rc == SQLITE_ROW;
    return taken;
}

int main(void) {
    sqlite3 *db;
    sqlite3_stmt *ins, *q, *all;
    ds_bloom filter, restored;
    char name[160], path[] = "/tmp/ds_usernames_XXXXXX";
    size_t i;
    ds_rng rng;
    long queries = 0, saved = 0, false_pos = 0, taken_hits = 0;
    int fd;
    FILE *f;
    ds_status st;

    load_words();
    printf("name source: %s\n", g_nwords ? "wamerican word list" : "generated (no word list)");

    /* 1. The database of taken names (in memory here; a file in production). */
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) die("sqlite3_open", sqlite3_errmsg(db));
    if (sqlite3_exec(db, "CREATE TABLE users(name TEXT PRIMARY KEY); BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        die("create", sqlite3_errmsg(db));
    if (sqlite3_prepare_v2(db, "INSERT INTO users VALUES(?)", -1, &ins, NULL) != SQLITE_OK)
        die("prepare", sqlite3_errmsg(db));
    for (i = 0; i < TAKEN; i++) {
        name_of(2 * i, name, sizeof name); /* even names are taken */
        sqlite3_bind_text(ins, 1, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(ins) != SQLITE_DONE) die("insert", sqlite3_errmsg(db));
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

    /* 2. The filter, sized for the table and a 1% false-positive rate,
     *    filled from a scan of the table (what a service does at start). */
    if ((st = ds_bloom_init(&filter, TAKEN, 0.01, NULL)) != DS_OK) die("ds_bloom_init", ds_strerror(st));
    if (sqlite3_prepare_v2(db, "SELECT name FROM users", -1, &all, NULL) != SQLITE_OK)
        die("prepare", sqlite3_errmsg(db));
    while (sqlite3_step(all) == SQLITE_ROW) {
        const unsigned char *s = sqlite3_column_text(all, 0);
        ds_bloom_add(&filter, s, (size_t)sqlite3_column_bytes(all, 0), NULL);
    }
    sqlite3_finalize(all);
    printf("filter: %llu bits (%.1f bits per name, %u probes), %.0f names estimated from the fill\n",
           (unsigned long long)filter.m, (double)filter.m / TAKEN, filter.k, ds_bloom_count(&filter));

    /* 3. Persist it and load it back, as after a restart. */
    fd = mkstemp(path);
    if (fd < 0 || !(f = fdopen(fd, "w+b"))) die("mkstemp", "cannot create a temporary file");
    if ((st = ds_bloom_save(&filter, ds_file_writer(f))) != DS_OK) die("ds_bloom_save", ds_strerror(st));
    rewind(f);
    {
        ds_reader r = ds_file_reader(f);
        if ((st = ds_bloom_load(&restored, &r, NULL)) != DS_OK) die("ds_bloom_load", ds_strerror(st));
    }
    fclose(f);
    remove(path);
    ds_bloom_free(&filter);

    /* 4. Sign-up checks: a mix of taken names (a third) and free ones. */
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM users WHERE name = ?", -1, &q, NULL) != SQLITE_OK)
        die("prepare", sqlite3_errmsg(db));
    ds_rng_seed(&rng, 2026);
    for (i = 0; i < CHECKS; i++) {
        size_t pick = (size_t)ds_rng_below(&rng, 3 * TAKEN);
        int maybe, taken;
        name_of(pick, name, sizeof name);
        maybe = ds_bloom_has(&restored, name, strlen(name));
        if (!maybe) {
            saved++; /* answered from memory: certainly free */
            if (pick % 2 == 0 && pick < 2 * TAKEN) die("check", "false negative (cannot happen)");
            continue;
        }
        queries++;
        taken = db_taken(q, name);
        taken_hits += taken;
        false_pos += !taken;
        if (taken != (pick % 2 == 0 && pick < 2 * TAKEN)) die("check", "database disagrees with the model");
    }
    sqlite3_finalize(q);
    sqlite3_close(db);

    printf("%d checks: %ld answered by the filter alone (%.1f%%), %ld database queries "
           "(%ld taken, %ld false positives = %.2f%% of free names checked)\n",
           CHECKS, saved, 100.0 * (double)saved / CHECKS, queries, taken_hits, false_pos,
           100.0 * (double)false_pos / (double)(saved + false_pos));
    ds_bloom_free(&restored);
    for (i = 0; i < g_nwords; i++) free(g_words[i]);
    free(g_words);
    return 0;
}
