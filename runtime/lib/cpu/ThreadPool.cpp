//===- ThreadPool.cpp - Work items over CPU threads -----------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/ThreadPool.h"

using namespace attnrt;

unsigned attnrt::resolveThreads(unsigned numThreads) {
  return numThreads ? numThreads
                    : std::max(1u, std::thread::hardware_concurrency());
}

ThreadPool::ThreadPool(unsigned numThreads) {
  numThreads = resolveThreads(numThreads);
  for (unsigned i = 1; i < numThreads; ++i)
    workers.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  for (std::thread &t : workers)
    t.join();
}

void ThreadPool::drain() {
  // Take items one at a time until none is left.
  while (true) {
    int64_t item;
    const std::function<void(int64_t)> *body;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!job || next >= jobCount)
        return;
      item = next++;
      body = job;
    }
    (*body)(item);
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (++finished == jobCount)
        done.notify_all();
    }
  }
}

void ThreadPool::workerLoop() {
  uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, [&] { return stopping || generation != seen; });
      if (stopping)
        return;
      seen = generation;
    }
    drain();
  }
}

void ThreadPool::parallelFor(int64_t count,
                             const std::function<void(int64_t)> &body) {
  if (count <= 0)
    return;
  {
    std::lock_guard<std::mutex> lock(mutex);
    job = &body;
    jobCount = count;
    next = 0;
    finished = 0;
    ++generation;
  }
  wake.notify_all();
  drain();
  std::unique_lock<std::mutex> lock(mutex);
  done.wait(lock, [&] { return finished == jobCount; });
  job = nullptr;
}
