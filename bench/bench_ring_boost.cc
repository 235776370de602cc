// bench/bench_ring_boost.cc - the boost::lockfree::spsc_queue contender for
// bench_ring.c (which is C, for ck_ring): one run of N items from a producer
// thread to a consumer thread, returning elapsed ns and the consumer's sum.
#include <boost/lockfree/spsc_queue.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace {
template <class Item>
long long run(unsigned cap, long long n, int batch, unsigned long long *sum_out) {
    boost::lockfree::spsc_queue<Item> q(cap);
    std::atomic<int> go(0);
    unsigned long long sum = 0;
    std::thread cons([&] {
        Item buf[32];
        long long got = 0;
        while (!go.load(std::memory_order_acquire)) {}
        while (got < n) {
            if (batch) {
                size_t k = q.pop(buf, 32);
                if (!k) std::this_thread::yield();
                for (size_t i = 0; i < k; i++) sum += buf[i].v[0];
                got += (long long)k;
            } else if (q.pop(buf[0])) {
                sum += buf[0].v[0];
                got++;
            } else {
                std::this_thread::yield();
            }
        }
    });
    auto t0 = std::chrono::steady_clock::now();
    go.store(1, std::memory_order_release);
    Item b[32] = {};
    long long i = 0;
    while (i < n) {
        if (batch) {
            long long k = n - i < 32 ? n - i : 32;
            for (long long j = 0; j < k; j++) b[j].v[0] = (unsigned long long)(i + j);
            size_t done = q.push(b, (size_t)k);
            if (!done) std::this_thread::yield();
            i += (long long)done;
        } else {
            b[0].v[0] = (unsigned long long)i;
            if (q.push(b[0])) i++;
            else std::this_thread::yield();
        }
    }
    cons.join();
    auto t1 = std::chrono::steady_clock::now();
    *sum_out = sum;
    return (long long)std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
}
struct item8 { unsigned long long v[1]; };
struct item64 { unsigned long long v[8]; };
}  // namespace

extern "C" long long bench_boost_spsc(int bytes, unsigned cap, long long n, int batch,
                                      unsigned long long *sum) {
    return bytes == 8 ? run<item8>(cap, n, batch, sum) : run<item64>(cap, n, batch, sum);
}
