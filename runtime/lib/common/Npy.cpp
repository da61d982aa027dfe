//===- Npy.cpp - NumPy .npy files -----------------------------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/Npy.h"
#include "attn/runtime/attn_runtime.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <sys/stat.h>

using namespace attnrt;

size_t attnrt::npyElementBytes(const std::string &descr) {
  if (descr == "<f2")
    return 2;
  if (descr == "<f4" || descr == "<i4")
    return 4;
  if (descr == "<f8" || descr == "<i8")
    return 8;
  return 0;
}

int64_t NpyArray::numElements() const {
  int64_t n = 1;
  for (int64_t size : shape)
    n *= size;
  return n;
}

double NpyArray::value(int64_t i) const {
  const char *p = bytes.data() + i * npyElementBytes(descr);
  if (descr == "<f2") {
    _Float16 x;
    std::memcpy(&x, p, 2);
    return static_cast<double>(x);
  }
  if (descr == "<f4") {
    float x;
    std::memcpy(&x, p, 4);
    return x;
  }
  if (descr == "<f8") {
    double x;
    std::memcpy(&x, p, 8);
    return x;
  }
  if (descr == "<i4") {
    int32_t x;
    std::memcpy(&x, p, 4);
    return x;
  }
  int64_t x;
  std::memcpy(&x, p, 8);
  return static_cast<double>(x);
}

std::vector<double> NpyArray::values() const {
  int64_t n = numElements();
  std::vector<double> result(n);
  for (int64_t i = 0; i < n; ++i)
    result[i] = value(i);
  return result;
}

bool attnrt::readNpy(const std::string &path, NpyArray &array,
                     std::string &error) {
  // Only regular files: a directory would fail the stream, a FIFO block.
  struct stat status;
  if (::stat(path.c_str(), &status) != 0 || !S_ISREG(status.st_mode)) {
    error = "cannot read '" + path + "': not a regular file";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read '" + path + "'";
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  return parseNpy(std::move(bytes), path, array, error);
}

bool attnrt::parseNpy(std::vector<char> bytes, const std::string &name,
                      NpyArray &array, std::string &error) {
  auto bad = [&](const std::string &why) {
    error = "'" + name + "' is not a supported .npy file: " + why;
    return false;
  };
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    return bad("no NumPy magic");
  int major = static_cast<unsigned char>(bytes[6]);
  size_t headerStart = major == 1 ? 10 : 12;
  if (bytes.size() < headerStart)
    return bad("truncated header");
  size_t headerLen =
      static_cast<unsigned char>(bytes[8]) |
      (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  if (major >= 2)
    headerLen |=
        (static_cast<size_t>(static_cast<unsigned char>(bytes[10])) << 16) |
        (static_cast<size_t>(static_cast<unsigned char>(bytes[11])) << 24);
  if (bytes.size() < headerStart + headerLen)
    return bad("truncated header");
  std::string header(bytes.data() + headerStart, headerLen);
  auto field = [&](const std::string &key) -> std::string {
    size_t at = header.find("'" + key + "'");
    if (at == std::string::npos)
      return "";
    size_t colon = header.find(':', at);
    return colon == std::string::npos ? "" : header.substr(colon + 1);
  };
  std::string descr = field("descr");
  size_t q1 = descr.find('\''), q2 = descr.find('\'', q1 + 1);
  if (q1 == std::string::npos || q2 == std::string::npos)
    return bad("no descr");
  descr = descr.substr(q1 + 1, q2 - q1 - 1);
  // The value after the colon, whatever the spacing NumPy accepts.
  std::string order = field("fortran_order");
  size_t first = order.find_first_not_of(" \t");
  if (first == std::string::npos)
    return bad("no fortran_order");
  if (order.compare(first, 4, "True") == 0)
    return bad("Fortran order");
  if (order.compare(first, 5, "False") != 0)
    return bad("fortran_order is neither True nor False");
  std::string shapeText = field("shape");
  size_t open = shapeText.find('('), close = shapeText.find(')');
  if (open == std::string::npos || close == std::string::npos)
    return bad("no shape");
  std::vector<int64_t> shape;
  std::stringstream dims(shapeText.substr(open + 1, close - open - 1));
  std::string dim;
  int64_t n = 1;
  while (std::getline(dims, dim, ',')) {
    size_t begin = dim.find_first_not_of(' ');
    if (begin == std::string::npos)
      continue;
    std::string text = dim.substr(begin, dim.find_last_not_of(' ') - begin + 1);
    if (text.empty() || text.size() > 18 ||
        text.find_first_not_of("0123456789") != std::string::npos)
      return bad("shape entry '" + text + "' is not a size");
    int64_t size = std::stoll(text);
    if (size != 0 && n > (int64_t(1) << 40) / size)
      return bad("the shape holds more than 2^40 elements");
    n *= size;
    shape.push_back(size);
    if (shape.size() > ATTN_MAX_RANK)
      return bad("the shape has more than " + std::to_string(ATTN_MAX_RANK) +
                 " dimensions");
  }
  size_t width = npyElementBytes(descr);
  if (!width)
    return bad("dtype " + descr + " (use <f2, <f4, <f8, <i4 or <i8)");
  size_t dataStart = headerStart + headerLen;
  size_t dataBytes = static_cast<size_t>(n) * width;
  if (bytes.size() - dataStart < dataBytes)
    return bad("fewer values than the shape holds");
  // The values alone, in place: no second copy of a large file.
  bytes.erase(bytes.begin(), bytes.begin() + dataStart);
  bytes.resize(dataBytes);
  array.descr = std::move(descr);
  array.shape = std::move(shape);
  array.bytes = std::move(bytes);
  return true;
}

bool attnrt::writeNpy(const std::string &path, const std::string &descr,
                      const std::vector<int64_t> &shape, const void *data,
                      size_t bytes, std::string &error) {
  int64_t n = 1;
  for (int64_t size : shape)
    n *= size;
  size_t width = npyElementBytes(descr);
  if (!width || bytes != static_cast<size_t>(n) * width) {
    error = "cannot write '" + path + "': " + std::to_string(bytes) +
            " bytes are no array of " + std::to_string(n) + " '" + descr +
            "' values";
    return false;
  }
  std::ostringstream header;
  header << "{'descr': '" << descr << "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i)
    header << shape[i] << (shape.size() == 1 || i + 1 < shape.size() ? "," : "")
           << (i + 1 < shape.size() ? " " : "");
  header << "), }";
  std::string text = header.str();
  // Magic (6) + version (2) + length (2) + header, padded to 64 with '\n'.
  size_t total = 10 + text.size() + 1;
  text.append((64 - total % 64) % 64, ' ');
  text.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  if (!out) {
    error = "cannot write '" + path + "'";
    return false;
  }
  out.write("\x93NUMPY\x01\x00", 8);
  uint16_t length = static_cast<uint16_t>(text.size());
  out.put(static_cast<char>(length & 0xff));
  out.put(static_cast<char>(length >> 8));
  out << text;
  out.write(static_cast<const char *>(data),
            static_cast<std::streamsize>(bytes));
  if (!out) {
    error = "cannot write '" + path + "'";
    return false;
  }
  return true;
}
