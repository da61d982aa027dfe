//===- ArtifactCacheTest.cpp - Tests of the on-disk artifact cache --------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/ArtifactCache.h"
#include "attn/runtime/ThreadPool.h"
#include "gtest/gtest.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace attnrt;

namespace {

/// A fresh directory under /tmp, removed with everything in it at the end.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/attn-cache-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

TEST(ArtifactCache, KeysSeparateSpecVersionAndTarget) {
  std::string a = cacheKey("spec", "0.1.0", "cpu");
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a, cacheKey("spec", "0.1.0", "cpu"));
  EXPECT_NE(a, cacheKey("spec", "0.1.1", "cpu"));
  EXPECT_NE(a, cacheKey("spec", "0.1.0", "sm_90a"));
  EXPECT_NE(cacheKey("ab", "c", "x"), cacheKey("a", "bc", "x"));
}

TEST(ArtifactCache, StoresAndLoads) {
  TempDir tmp;
  ArtifactCache cache(tmp.path + "/nested/dir");
  EXPECT_FALSE(cache.load("k"));
  std::string payload("binary\0data", 11);
  std::string error;
  ASSERT_TRUE(cache.store("k", payload, &error)) << error;
  EXPECT_EQ(cache.load("k"), payload);
}

TEST(ArtifactCache, DirectoriesOthersCanWriteAreNotUsed) {
  TempDir tmp;
  ArtifactCache cache(tmp.path);
  std::string error;
  ASSERT_TRUE(cache.store("k", "code", &error)) << error;
  // Group- or world-writable: another user could plant an entry.
  ASSERT_EQ(chmod(tmp.path.c_str(), 0777), 0);
  EXPECT_FALSE(cache.load("k"));
  EXPECT_FALSE(cache.store("k", "code", &error));
  EXPECT_EQ(error, "the cache directory '" + tmp.path +
                       "' is writable by other users; its entries would be "
                       "loaded as code, so it is not used: make it yours and "
                       "not group- or world-writable (chmod go-w), or point "
                       "ATTN_CACHE_DIR elsewhere");
  ASSERT_EQ(chmod(tmp.path.c_str(), 0700), 0);
  EXPECT_EQ(cache.load("k"), "code");
  // Created directories are owner-only.
  ArtifactCache nested(tmp.path + "/a/b");
  ASSERT_TRUE(nested.store("k", "code", &error)) << error;
  struct stat info;
  ASSERT_EQ(stat((tmp.path + "/a/b").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
}

TEST(ArtifactCache, DirectoriesOfOthersAndFilesAreNotUsed) {
  TempDir tmp;
  std::string error;
  std::string file = tmp.path + "/plain";
  std::ofstream(file) << "x";
  ArtifactCache notDirectory(file);
  EXPECT_FALSE(notDirectory.store("k", "code", &error));
  EXPECT_EQ(error, "the cache directory '" + file +
                       "' is not a directory; its entries would be loaded "
                       "as code, so it is not used: make it yours and not "
                       "group- or world-writable (chmod go-w), or point "
                       "ATTN_CACHE_DIR elsewhere");
  // Another user's directory (only root can give one away here).
  std::string theirs = tmp.path + "/theirs";
  ASSERT_EQ(mkdir(theirs.c_str(), 0700), 0);
  if (chown(theirs.c_str(), geteuid() + 1, static_cast<gid_t>(-1)) != 0)
    GTEST_SKIP() << "cannot give a directory to another user";
  ArtifactCache others(theirs);
  EXPECT_FALSE(others.load("k"));
  EXPECT_FALSE(others.store("k", "code", &error));
  EXPECT_NE(error.find("' belongs to another user;"), std::string::npos)
      << error;
}

TEST(ArtifactCache, TruncatedOrCorruptEntriesAreMissesAndRemoved) {
  TempDir tmp;
  ArtifactCache cache(tmp.path);
  ASSERT_TRUE(cache.store("k", std::string(1000, 'x')));
  std::string path = cache.pathOf("k");
  ASSERT_EQ(truncate(path.c_str(), 500), 0);
  EXPECT_FALSE(cache.load("k"));
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "damaged entry not removed";

  ASSERT_TRUE(cache.store("k", std::string(1000, 'x')));
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(600);
    f.put('y');
  }
  EXPECT_FALSE(cache.load("k"));
  ASSERT_TRUE(cache.store("k", "rebuilt"));
  EXPECT_EQ(cache.load("k"), "rebuilt");
}

TEST(ArtifactCache, EntriesThatAreNoRegularFileAreMisses) {
  TempDir tmp;
  ArtifactCache cache(tmp.path);
  ASSERT_TRUE(cache.store("seed", "x")); // creates the directory
  // A directory used to abort the read, a FIFO to block it forever.
  ASSERT_EQ(mkdir(cache.pathOf("dir").c_str(), 0700), 0);
  EXPECT_FALSE(cache.load("dir"));
  ASSERT_EQ(mkfifo(cache.pathOf("fifo").c_str(), 0600), 0);
  EXPECT_FALSE(cache.load("fifo"));
  // A FIFO entry is replaced by the next store.
  ASSERT_TRUE(cache.store("fifo", "rebuilt"));
  EXPECT_EQ(cache.load("fifo"), "rebuilt");
}

TEST(ArtifactCache, ConcurrentProcessesStoringOneEntryBothSucceed) {
  TempDir tmp;
  const std::string &dir = tmp.path;
  std::string payload(1 << 20, 'p');
  std::vector<pid_t> children;
  for (int i = 0; i < 4; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ArtifactCache cache(dir);
      bool ok = true;
      for (int j = 0; j < 20; ++j) {
        ok &= cache.store("same", payload);
        std::optional<std::string> read = cache.load("same");
        ok &= read && *read == payload;
      }
      _exit(ok ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(ArtifactCache(dir).load("same"), payload);
}

TEST(ThreadPool, RunsEveryItemOnceOverRepeatedCalls) {
  for (unsigned threads : {1u, 2u, 5u}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.numThreads(), threads);
    for (int64_t count : {0, 1, 7, 1000}) {
      std::vector<std::atomic<int>> hits(count);
      pool.parallelFor(count, [&](int64_t i) { ++hits[i]; });
      for (int64_t i = 0; i < count; ++i)
        EXPECT_EQ(hits[i].load(), 1) << "item " << i;
    }
  }
}

} // namespace
