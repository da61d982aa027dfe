//===- ThreadPool.h - Work items over CPU threads ---------------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// CPU kernels are split into independent work items (batch, head group,
// q-tile); parallelFor hands them out over a fixed set of threads,
// dynamically, so that items of unequal cost (causal, sparse) balance.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_THREADPOOL_H
#define ATTN_RUNTIME_THREADPOOL_H

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace attnrt {

/// The workers a pool of `numThreads` has: `numThreads`, or the hardware's
/// count (at least 1) for 0.
unsigned resolveThreads(unsigned numThreads);

class ThreadPool {
public:
  /// A pool of `numThreads` workers (0: the hardware's count). The calling
  /// thread works too, so `numThreads - 1` threads are started.
  explicit ThreadPool(unsigned numThreads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  unsigned numThreads() const {
    return static_cast<unsigned>(workers.size()) + 1;
  }

  /// Runs `body(i)` for every i in [0, count) and returns when all are done.
  /// One call at a time per pool.
  void parallelFor(int64_t count, const std::function<void(int64_t)> &body);

private:
  void workerLoop();
  void drain();

  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable wake, done;
  const std::function<void(int64_t)> *job = nullptr;
  int64_t jobCount = 0;
  int64_t next = 0;
  int64_t finished = 0;
  uint64_t generation = 0;
  bool stopping = false;
};

} // namespace attnrt

#endif // ATTN_RUNTIME_THREADPOOL_H
