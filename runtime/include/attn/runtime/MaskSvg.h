//===- MaskSvg.h - Draw a mask and its tile grid ----------------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_MASKSVG_H
#define ATTN_RUNTIME_MASKSVG_H

#include "attn/runtime/MaskModel.h"
#include <string>

namespace attnrt::mask {

/// An SVG of `mask` (null: every key visible) for batch `b`, head `h`:
/// queries down, keys across, visible pairs dark, and the tiles of `blockQ`
/// x `blockKV` outlined and tinted by kind (empty: none, full: green,
/// partial: orange).
std::string drawMaskSvg(const Node *mask, const Data &data, int64_t b,
                        int64_t h, int64_t blockQ, int64_t blockKV);

} // namespace attnrt::mask

#endif // ATTN_RUNTIME_MASKSVG_H
