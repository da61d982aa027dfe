//===- MaskSvg.h - Draw a mask and its tile grid ----------------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTN_RUN_MASKSVG_H
#define ATTN_TOOLS_ATTN_RUN_MASKSVG_H

#include "attn/runtime/MaskModel.h"
#include <string>

namespace mlir::attn {

/// An SVG of the mask for batch `b`, head `h`: queries down, keys across,
/// visible pairs dark, and the tiles of `blockQ` x `blockKV` outlined and
/// tinted by kind (empty: none, full: green, partial: orange).
std::string drawMaskSvg(const attnrt::mask::Node &mask,
                        const attnrt::mask::Data &data, int64_t b, int64_t h,
                        int64_t blockQ, int64_t blockKV);

} // namespace mlir::attn

#endif // ATTN_TOOLS_ATTN_RUN_MASKSVG_H
