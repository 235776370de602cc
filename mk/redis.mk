# ds_redis.h: the distributed structures on Redis (needs hiredis, and
# redis-server + redis-cli for the tests; tools/deps.sh check installs them).
HEADERS += ds_redis.h

# Examples that use it link hiredis.
LIBS_rate_limit_cluster := -lhiredis
LIBS_idempotent_payments_redis := -lhiredis -lsqlite3
LIBS_cache_cluster_redis := -lhiredis -lsqlite3

# The optional Redis module (redis/ds_limit_module.c): DS.LIMIT, ds_limiter's
# own decision code as a server command, the limiters' fast path. No
# dependency (the module API it uses is declared in redis/ds_redismodule.h);
# `make` builds it.
MODULE_SO := $(BUILD)/ds_limit_module.so
all: $(MODULE_SO)

$(MODULE_SO): redis/ds_limit_module.c redis/ds_redismodule.h ds.h | $(BUILD)
	$(GCC) -std=c99 -O2 -g $(STRICT) -fPIC -shared -fvisibility=hidden -I. redis/ds_limit_module.c -o $@ -lm

# The tests load it built with UBSan (libubsan is a plain shared library,
# so an uninstrumented redis-server can load it; ASan would need the
# server itself instrumented): undefined behaviour aborts the server.
MODULE_SAN_SO := $(BUILD)/san/ds_limit_module.so
$(MODULE_SAN_SO): redis/ds_limit_module.c redis/ds_redismodule.h ds.h | $(BUILD)
	@mkdir -p $(dir $@)
	$(GCC) -std=c99 -O1 -g $(STRICT) -fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	  -fPIC -shared -fvisibility=hidden -I. redis/ds_limit_module.c -o $@ -lm

# The tests: tests/redis/run.sh starts its own redis-server instances (unix
# sockets and ports under build/redis), a 3-master cluster, some with the
# module (UBSan build) loaded, runs the binary built with ASan+UBSan, and
# stops every server on exit, also on failure.
REDIS_TEST_BIN := $(BUILD)/test_redis
EXTRA_TEST_BINS += $(BUILD)/test_redis.sh

$(REDIS_TEST_BIN): tests/redis/test_redis.c tests/tests.h ds.h ds_redis.h | $(BUILD)
	$(GCC) -std=c99 -O1 -g $(WARN) $(SAN) -I. -Itests tests/redis/test_redis.c -o $@ -lhiredis -pthread -lm

$(BUILD)/test_redis.sh: tests/redis/run.sh $(REDIS_TEST_BIN) $(MODULE_SAN_SO) | $(BUILD)
	@printf '#!/bin/sh\nDS_REDIS_MODULE=%s exec sh %s/tests/redis/run.sh %s "$$@"\n' "$(abspath $(MODULE_SAN_SO))" "$(CURDIR)" "$(abspath $(REDIS_TEST_BIN))" > $@ && chmod +x $@

$(BUILD)/bench_redis: bench/bench_redis.c ds.h ds_redis.h $(MODULE_SO) | $(BUILD)
	$(GCC) -std=c99 -O2 $(WARN) -I. bench/bench_redis.c -o $@ -lhiredis -lm
