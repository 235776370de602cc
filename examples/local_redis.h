/* examples/local_redis.h - a private redis-server for the Redis examples:
 * started on a unix socket in a fresh /tmp folder (no persistence), killed
 * and cleaned up at the end. Included by the examples that need one (they
 * define _POSIX_C_SOURCE and include ds_redis.h first). */
#ifndef DS_EXAMPLES_LOCAL_REDIS_H
#define DS_EXAMPLES_LOCAL_REDIS_H

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap_ms(int ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* A private redis-server on a unix socket in a fresh /tmp folder (no
 * persistence), or NULL if redis-server is not installed. */
typedef struct local_redis {
    pid_t pid;
    char dir[64], sock[128];
} local_redis;
static int local_redis_start(local_redis *s, const char *name) {
    int i;
    char log[160];
    if (!s->dir[0]) {
        strcpy(s->dir, "/tmp/ds-redis-XXXXXX");
        if (!mkdtemp(s->dir)) return 0;
    }
    {
        char dir[sizeof s->dir];
        memcpy(dir, s->dir, sizeof dir);
        snprintf(s->sock, sizeof s->sock, "%s/%s.sock", dir, name);
        snprintf(log, sizeof log, "%s/%s.log", dir, name);
    }
    s->pid = fork();
    if (s->pid == 0) {
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", s->sock, "--save", "",
               "--appendonly", "no", "--dir", s->dir, "--logfile", log, (char *)NULL);
        _exit(127);
    }
    if (s->pid < 0) return 0;
    for (i = 0; i < 300; i++) { /* up to 3 s */
        redisContext *c = redisConnectUnix(s->sock);
        int up = c && !c->err;
        int st;
        if (c) redisFree(c);
        if (up) return 1;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) return 0; /* exec failed: not installed */
        nap_ms(10);
    }
    return 0;
}
static void local_redis_stop(local_redis *s) {
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
        unlink(s->sock);
    }
}
/* Remove the folder and what the servers left in it. */
static void local_redis_cleanup(local_redis *s, const char *const *names, int n) {
    char p[200];
    int i;
    for (i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%s.log", s->dir, names[i]);
        unlink(p);
        snprintf(p, sizeof p, "%s/%s.sock", s->dir, names[i]);
        unlink(p);
    }
    if (s->dir[0]) rmdir(s->dir);
}

#endif
