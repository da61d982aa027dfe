//===- ArtifactCache.h - On-disk cache of compiled kernels ------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Compiled artifacts are cached on disk under a key derived from the spec,
// the compiler version and the target. Entries are written to a temporary
// file and renamed into place (atomic on POSIX), so two processes that build
// the same entry at once both succeed and readers never see half a file. An
// entry carries its size and a checksum; a truncated or corrupt entry reads
// as a miss and is removed, so the caller rebuilds it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_ARTIFACTCACHE_H
#define ATTN_RUNTIME_ARTIFACTCACHE_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace attnrt {

/// A 64-bit FNV-1a hash, stable across runs and machines.
uint64_t stableHash(std::string_view bytes, uint64_t seed = 0);

/// The cache key of an artifact, as 16 hex digits.
std::string cacheKey(std::string_view spec, std::string_view compilerVersion,
                     std::string_view target);

class ArtifactCache {
public:
  /// A cache rooted at `directory` (created owner-only on first store). An
  /// empty directory picks $ATTN_CACHE_DIR, else $XDG_CACHE_HOME/attn, else
  /// $HOME/.cache/attn, else /tmp/attn-cache-<uid>.
  explicit ArtifactCache(std::string directory = "");

  const std::string &directory() const { return dir; }

  /// The payload stored under `key`, or nothing on a miss (absent, truncated
  /// or corrupt; a damaged entry is removed).
  std::optional<std::string> load(const std::string &key) const;

  /// Stores `payload` under `key` atomically. Returns false and sets `error`
  /// when the directory or the file cannot be written.
  bool store(const std::string &key, std::string_view payload,
             std::string *error = nullptr) const;

  /// Whether the directory is safe to load code from: absent, or a
  /// directory of this user that no group or other user may write. Sets
  /// `error` when it is not; load() then misses and store() fails.
  bool trusted(std::string *error = nullptr) const;

  /// The path of the entry for `key`.
  std::string pathOf(const std::string &key) const;

private:
  std::string dir;
};

} // namespace attnrt

#endif // ATTN_RUNTIME_ARTIFACTCACHE_H
