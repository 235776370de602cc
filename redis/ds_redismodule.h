/* redis/ds_redismodule.h - the part of the Redis module API that
 * redis/ds_limit_module.c uses, declared here because Debian's
 * redis-server package ships no redismodule.h.
 *
 * The ABI (Redis >= 4, documented in the Redis modules API reference):
 * the server calls RedisModule_OnLoad(ctx, argv, argc); the first word of
 * the context is a lookup function, int getapi(const char *name, void
 * *pptr), that stores the address of the server's function "RedisModule_X"
 * into *pptr and returns REDISMODULE_OK (0) when the server has it. The
 * module then registers itself with RedisModule_SetModuleAttribs(ctx,
 * name, version, 1 = API version 1). Only the functions below are looked
 * up; their signatures are those of Redis 7.0's API reference. */
#ifndef DS_REDISMODULE_H
#define DS_REDISMODULE_H
#include <stddef.h>
#include <string.h>

#define REDISMODULE_OK 0
#define REDISMODULE_ERR 1
#define REDISMODULE_APIVER_1 1
#define REDISMODULE_READ (1 << 0)
#define REDISMODULE_WRITE (1 << 1)
#define REDISMODULE_KEYTYPE_EMPTY 0
#define REDISMODULE_KEYTYPE_STRING 1

typedef struct RedisModuleCtx RedisModuleCtx;
typedef struct RedisModuleKey RedisModuleKey;
typedef struct RedisModuleString RedisModuleString;
typedef long long mstime_t;
typedef int (*RedisModuleCmdFunc)(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

/* One pointer per API function, filled by ds__rm_init (extern "C" linkage
 * is not needed: nothing outside the module sees them). */
#define DS__RM_API(X)                                                                                    \
    X(void, SetModuleAttribs, (RedisModuleCtx * ctx, const char *name, int ver, int apiver))             \
    X(int, CreateCommand,                                                                                \
      (RedisModuleCtx * ctx, const char *name, RedisModuleCmdFunc cmdfunc, const char *strflags,         \
       int firstkey, int lastkey, int keystep))                                                          \
    X(void *, OpenKey, (RedisModuleCtx * ctx, RedisModuleString * keyname, int mode))                    \
    X(void, CloseKey, (RedisModuleKey * kp))                                                             \
    X(int, KeyType, (RedisModuleKey * kp))                                                               \
    X(char *, StringDMA, (RedisModuleKey * key, size_t *len, int mode))                                  \
    X(int, StringTruncate, (RedisModuleKey * key, size_t newlen))                                        \
    X(int, SetExpire, (RedisModuleKey * key, mstime_t expire))                                           \
    X(const char *, StringPtrLen, (const RedisModuleString *str, size_t *len))                           \
    X(int, ReplyWithArray, (RedisModuleCtx * ctx, long len))                                             \
    X(int, ReplyWithLongLong, (RedisModuleCtx * ctx, long long ll))                                      \
    X(int, ReplyWithStringBuffer, (RedisModuleCtx * ctx, const char *buf, size_t len))                   \
    X(int, ReplyWithError, (RedisModuleCtx * ctx, const char *err))                                      \
    X(int, WrongArity, (RedisModuleCtx * ctx))                                                           \
    X(int, Replicate, (RedisModuleCtx * ctx, const char *cmdname, const char *fmt, ...))                 \
    X(long long, Milliseconds, (void))

#define DS__RM_DECLARE(ret, name, args) static ret(*RedisModule_##name) args;
DS__RM_API(DS__RM_DECLARE)
#undef DS__RM_DECLARE

/* Look every function up; REDISMODULE_ERR if the server lacks one. */
static int ds__rm_init(RedisModuleCtx *ctx, const char *name, int ver) {
    int (*getapi)(const char *, void *);
    void *first = ((void **)(void *)ctx)[0];
    memcpy(&getapi, &first, sizeof getapi); /* an object pointer to a function pointer, portably */
#define DS__RM_GET(ret, fn, args)                                                        \
    if (getapi("RedisModule_" #fn, (void *)&RedisModule_##fn) != REDISMODULE_OK) \
        return REDISMODULE_ERR;
    DS__RM_API(DS__RM_GET)
#undef DS__RM_GET
    RedisModule_SetModuleAttribs(ctx, name, ver, REDISMODULE_APIVER_1);
    return REDISMODULE_OK;
}
#endif /* DS_REDISMODULE_H */
