//===- NpyIO.cpp - NumPy .npy files for attn-run --save/--load ------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "NpyIO.h"
#include "llvm/Support/FileSystem.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace mlir::attn;

bool mlir::attn::writeNpy(const std::string &path, const HostTensor &t,
                          std::string &error) {
  const char *descr = t.dtype == ATTN_I32   ? "<i4"
                      : t.dtype == ATTN_F16 ? "<f2"
                                            : "<f4";
  std::ostringstream header;
  header << "{'descr': '" << descr << "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < t.shape.size(); ++i)
    header << t.shape[i]
           << (t.shape.size() == 1 || i + 1 < t.shape.size() ? "," : "")
           << (i + 1 < t.shape.size() ? " " : "");
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
  int64_t n = t.numElements();
  for (int64_t i = 0; i < n; ++i) {
    if (t.dtype == ATTN_I32) {
      int32_t x = t.ints[i];
      out.write(reinterpret_cast<const char *>(&x), 4);
    } else if (t.dtype == ATTN_F16) {
      _Float16 x = static_cast<_Float16>(t.values[i]);
      out.write(reinterpret_cast<const char *>(&x), 2);
    } else {
      float x = static_cast<float>(t.values[i]);
      out.write(reinterpret_cast<const char *>(&x), 4);
    }
  }
  if (!out) {
    error = "cannot write '" + path + "'";
    return false;
  }
  return true;
}

bool mlir::attn::readNpy(const std::string &path, HostTensor &t,
                         std::string &error) {
  // Only regular files: a directory would abort the stream, a FIFO block.
  llvm::sys::fs::file_status status;
  if (llvm::sys::fs::status(path, status) ||
      status.type() != llvm::sys::fs::file_type::regular_file) {
    error = "cannot read '" + path + "': not a regular file";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read '" + path + "'";
    return false;
  }
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  auto bad = [&](const std::string &why) {
    error = "'" + path + "' is not a supported .npy file: " + why;
    return false;
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
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
  std::string header = bytes.substr(headerStart, headerLen);
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
  t.shape.clear();
  std::stringstream dims(shapeText.substr(open + 1, close - open - 1));
  std::string dim;
  int64_t n = 1;
  while (std::getline(dims, dim, ',')) {
    size_t first = dim.find_first_not_of(' ');
    if (first == std::string::npos)
      continue;
    size_t last = dim.find_last_not_of(' ');
    int64_t size = 0;
    std::string text = dim.substr(first, last - first + 1);
    if (text.empty() || text.size() > 18 ||
        text.find_first_not_of("0123456789") != std::string::npos)
      return bad("shape entry '" + text + "' is not a size");
    size = std::stoll(text);
    if (size != 0 && n > (int64_t(1) << 40) / size)
      return bad("the shape holds more than 2^40 elements");
    n *= size;
    t.shape.push_back(size);
    if (t.shape.size() > ATTN_MAX_RANK)
      return bad("the shape has more than " + std::to_string(ATTN_MAX_RANK) +
                 " dimensions");
  }
  size_t width = descr == "<f2"                       ? 2
                 : (descr == "<f8" || descr == "<i8") ? 8
                                                      : 4;
  if (descr != "<f2" && descr != "<f4" && descr != "<f8" && descr != "<i4" &&
      descr != "<i8")
    return bad("dtype " + descr + " (use <f2, <f4, <f8, <i4 or <i8)");
  const char *data = bytes.data() + headerStart + headerLen;
  if (bytes.size() - headerStart - headerLen < static_cast<size_t>(n) * width)
    return bad("fewer values than the shape holds");
  auto value = [&](int64_t i) -> double {
    const char *p = data + i * width;
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
  };
  if (t.dtype == ATTN_I32) {
    // Index operands stored as floats or int64 must hold int32 values.
    t.ints.resize(n);
    for (int64_t i = 0; i < n; ++i) {
      double x = value(i);
      if (!(x >= -2147483648.0 && x <= 2147483647.0) || x != std::trunc(x))
        return bad("element " + std::to_string(i) + " (" + std::to_string(x) +
                   ") is not an int32 value");
      t.ints[i] = static_cast<int32_t>(x);
    }
  } else {
    t.values.resize(n);
    for (int64_t i = 0; i < n; ++i)
      t.values[i] = roundTo(t.dtype, value(i));
  }
  return true;
}
