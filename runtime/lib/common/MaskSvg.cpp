//===- MaskSvg.cpp - Draw a mask and its tile grid ------------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/MaskSvg.h"

#include <algorithm>
#include <sstream>
#include <vector>

using namespace attnrt::mask;

/// `text` with XML's special characters escaped.
static std::string escapeXml(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

std::string attnrt::mask::drawMaskSvg(const Node *mask, const Data &data,
                                      int64_t b, int64_t h, int64_t blockQ,
                                      int64_t blockKV) {
  // At most 800 pixels a side: large masks draw one sampled query row per
  // pixel row, with its visible key runs scaled across.
  const double maxSide = 800;
  double scale =
      std::min(8.0, maxSide / double(std::max(data.qLen, data.kvLen)));
  double width = data.kvLen * scale, height = data.qLen * scale;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width + 2
      << "\" height=\"" << height + 2 << "\" viewBox=\"-1 -1 " << width + 2
      << " " << height + 2 << "\">\n"
      << "<title>" << escapeXml(mask ? mask->str() : "no mask") << " (batch "
      << b << ", head " << h << ", q_len " << data.qLen << ", kv_len "
      << data.kvLen << ")</title>\n<rect width=\"" << width << "\" height=\""
      << height << "\" fill=\"white\"/>\n";

  // Tiles, tinted by kind.
  int64_t kvTiles = (data.kvLen + blockKV - 1) / blockKV;
  std::vector<int32_t> kinds(kvTiles);
  for (int64_t q0 = 0; q0 < data.qLen; q0 += blockQ) {
    int64_t q1 = std::min(q0 + blockQ, data.qLen);
    classifyTileRow(mask, data, b, h, q0, q1, blockKV, kinds.data(), kvTiles);
    for (int64_t kt = 0; kt < kvTiles; ++kt) {
      auto kind = static_cast<TileKind>(kinds[kt]);
      if (kind == TileKind::Empty)
        continue;
      int64_t k0 = kt * blockKV, k1 = std::min(k0 + blockKV, data.kvLen);
      svg << "<rect x=\"" << k0 * scale << "\" y=\"" << q0 * scale
          << "\" width=\"" << (k1 - k0) * scale << "\" height=\""
          << (q1 - q0) * scale << "\" fill=\""
          << (kind == TileKind::Full ? "#c8e6c9" : "#ffe0b2") << "\"/>\n";
    }
  }

  // Visible pairs, one path per pixel row.
  std::vector<Run> runs;
  int64_t rows = std::max<int64_t>(1, static_cast<int64_t>(height));
  svg << "<path fill=\"#1a237e\" fill-opacity=\"0.8\" d=\"";
  for (int64_t row = 0; row < rows; ++row) {
    int64_t q =
        std::min<int64_t>(data.qLen - 1, static_cast<int64_t>(row / scale));
    double y = row * (height / rows), dy = height / rows;
    if (mask)
      visibleRuns(*mask, data, b, h, q, 0, data.kvLen, runs);
    else
      runs.assign(1, Run{0, data.kvLen});
    for (const Run &r : runs)
      svg << "M" << r.begin * scale << " " << y << "h"
          << (r.end - r.begin) * scale << "v" << dy << "h"
          << -(r.end - r.begin) * scale << "z";
  }
  svg << "\"/>\n";

  // The tile grid.
  svg << "<g stroke=\"#9e9e9e\" stroke-width=\"0.5\">\n";
  for (int64_t q0 = 0; q0 <= data.qLen; q0 += blockQ)
    svg << "<line x1=\"0\" y1=\"" << q0 * scale << "\" x2=\"" << width
        << "\" y2=\"" << q0 * scale << "\"/>\n";
  for (int64_t k0 = 0; k0 <= data.kvLen; k0 += blockKV)
    svg << "<line x1=\"" << k0 * scale << "\" y1=\"0\" x2=\"" << k0 * scale
        << "\" y2=\"" << height << "\"/>\n";
  svg << "</g>\n</svg>\n";
  return svg.str();
}
