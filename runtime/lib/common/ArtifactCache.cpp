//===- ArtifactCache.cpp - On-disk cache of compiled kernels --------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/ArtifactCache.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace attnrt;

namespace {
/// Entry layout: magic (8 bytes), payload size (8), payload hash (8), payload.
constexpr char kMagic[8] = {'A', 'T', 'T', 'N', 'C', 'A', '0', '1'};
constexpr size_t kHeaderSize = 24;

void putU64(std::string &out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t getU64(const char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

/// mkdir -p.
bool makeDirectories(const std::string &path, std::string *error) {
  std::string partial;
  std::stringstream parts(path);
  std::string part;
  if (!path.empty() && path[0] == '/')
    partial = "/";
  while (std::getline(parts, part, '/')) {
    if (part.empty())
      continue;
    partial += part + "/";
    if (mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      if (error)
        *error = "cannot create cache directory '" + partial +
                 "': " + std::strerror(errno);
      return false;
    }
  }
  return true;
}
} // namespace

uint64_t attnrt::stableHash(std::string_view bytes, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string attnrt::cacheKey(std::string_view spec,
                             std::string_view compilerVersion,
                             std::string_view target) {
  // Hash the parts with their lengths so that ("ab", "c") != ("a", "bc").
  uint64_t h = 0;
  for (std::string_view part : {spec, compilerVersion, target}) {
    h = stableHash(part, h);
    h = stableHash(std::to_string(part.size()), h);
  }
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx",
                static_cast<unsigned long long>(h));
  return text;
}

ArtifactCache::ArtifactCache(std::string directory)
    : dir(std::move(directory)) {
  if (!dir.empty())
    return;
  if (const char *env = std::getenv("ATTN_CACHE_DIR"); env && *env)
    dir = env;
  else if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    dir = std::string(xdg) + "/attn";
  else if (const char *home = std::getenv("HOME"); home && *home)
    dir = std::string(home) + "/.cache/attn";
  else
    dir = "/tmp/attn-cache-" + std::to_string(geteuid());
}

bool ArtifactCache::trusted(std::string *error) const {
  // Entries are loaded as code: nobody else may be able to plant one.
  struct stat info;
  if (stat(dir.c_str(), &info) != 0)
    return errno == ENOENT; // created on the first store, owner-only
  const char *why = nullptr;
  if (!S_ISDIR(info.st_mode))
    why = "is not a directory";
  else if (info.st_uid != geteuid())
    why = "belongs to another user";
  else if (info.st_mode & (S_IWGRP | S_IWOTH))
    why = "is writable by other users";
  if (!why)
    return true;
  if (error)
    *error = "the cache directory '" + dir + "' " + why +
             "; its entries would be loaded as code, so it is not used: "
             "make it yours and not group- or world-writable (chmod go-w), "
             "or point ATTN_CACHE_DIR elsewhere";
  return false;
}

std::string ArtifactCache::pathOf(const std::string &key) const {
  return dir + "/" + key + ".bin";
}

std::optional<std::string> ArtifactCache::load(const std::string &key) const {
  if (!trusted())
    return std::nullopt;
  std::string path = pathOf(key);
  // Only a regular file is an entry: a directory would abort the stream
  // and a FIFO block it; either reads as a miss.
  struct stat info;
  if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode))
    return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  bool valid = bytes.size() >= kHeaderSize &&
               std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) == 0 &&
               getU64(bytes.data() + 8) == bytes.size() - kHeaderSize;
  std::string_view payload;
  if (valid) {
    payload = std::string_view(bytes).substr(kHeaderSize);
    valid = getU64(bytes.data() + 16) == stableHash(payload);
  }
  if (!valid) {
    // Damaged (a crash mid-write by a tool that bypassed rename, a full
    // disk, a bit flip): drop it so the caller rebuilds.
    std::remove(path.c_str());
    return std::nullopt;
  }
  return std::string(payload);
}

bool ArtifactCache::store(const std::string &key, std::string_view payload,
                          std::string *error) const {
  if (!makeDirectories(dir, error) || !trusted(error))
    return false;
  std::string bytes(kMagic, sizeof(kMagic));
  putU64(bytes, payload.size());
  putU64(bytes, stableHash(payload));
  bytes.append(payload);

  // A unique temporary name in the same directory, then an atomic rename.
  std::string tmpl = dir + "/." + key + ".XXXXXX";
  int fd = mkstemp(tmpl.data());
  if (fd < 0) {
    if (error)
      *error = "cannot create a file in '" + dir + "': " + std::strerror(errno);
    return false;
  }
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (error)
        *error = "cannot write '" + tmpl + "': " + std::strerror(errno);
      close(fd);
      unlink(tmpl.c_str());
      return false;
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    if (error)
      *error = "cannot flush '" + tmpl + "': " + std::strerror(errno);
    unlink(tmpl.c_str());
    return false;
  }
  if (std::rename(tmpl.c_str(), pathOf(key).c_str()) != 0) {
    if (error)
      *error =
          "cannot rename '" + tmpl + "' into place: " + std::strerror(errno);
    unlink(tmpl.c_str());
    return false;
  }
  return true;
}
