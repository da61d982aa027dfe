//===- RandomInputs.h - Random valid inputs for a spec ----------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// attn-run's inputs, kept out of the tool: random valid inputs for every
// kernel parameter and the visible work of a run. The error against the
// reference is the runtime's (attn/runtime/Compare.h), which
// attn-gpu-check shares.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_REFERENCE_RANDOMINPUTS_H
#define ATTN_REFERENCE_RANDOMINPUTS_H

#include "attn/Reference/Reference.h"
#include "attn/runtime/Manifest.h"
#include "attn/runtime/MaskModel.h"

#include <map>
#include <random>
#include <string>
#include <vector>

namespace mlir::attn {

/// The sequences of a run: per batch entry its query and key lengths, and
/// where paged or ragged storage keeps them.
struct Geometry {
  KVStorage storage = KVStorage::contiguous;
  int64_t batch = 0, qLen = 0, kvLen = 0; ///< the longest lengths
  std::vector<int64_t> qLens, kvLens;
  int64_t pageSize = 0, numPages = 0, maxPages = 0; ///< paged
  std::vector<int32_t> pageOrder;                   ///< paged: page of slot
  int64_t tokensQ = 0, tokensKV = 0;                ///< ragged
  /// Document masks: the documents of q and kv are drawn independently, or
  /// (by default) as one packed sequence per batch entry from
  /// `documentSeed`, which both sides share.
  bool independentDocuments = false;
  uint32_t documentSeed = 0;
};

/// How the inputs are drawn.
struct InputOptions {
  /// Draws the document ids (or cu_seqlens) of q and kv independently of
  /// each other instead of as one packed sequence of documents that both
  /// sides share.
  bool independentDocuments = false;
};

/// Random valid sequences: the first batch entry has the longest lengths
/// (so `Lq` and `Lkv` are reached), the others are random and shorter with
/// paged (keys) and ragged (queries and keys) storage. Paged caches get
/// their pages in random order, with one spare page. A spec with a
/// document mask gets the seed of its packed documents (unless they are
/// drawn independently, which draws nothing here).
Geometry makeGeometry(AttentionOp op, int64_t B, int64_t Lq, int64_t Lkv,
                      std::mt19937 &rng, const InputOptions &options = {});

/// Creates the tensor of parameter `p` with random valid contents: normal
/// floats, and index operands the runtime accepts (sorted document ids,
/// cu_seqlens, prefix lengths, vertical keys and slash offsets, block
/// tables and cache lengths). Block-sparse lists are finished by
/// fillBlockSparse once both tensors exist.
///
/// Documents (`doc_q`/`doc_kv`, or the document mask's `cu_seqlens_q`/
/// `cu_seqlens_kv`) are by default packed: each batch entry is one sequence
/// of a few documents over max(Lq, Lkv) tokens, of which q and kv are the
/// tails (bottom-right aligned, as the masks align q with kv), so equal
/// lengths give both sides the same ids and a shorter q (decode, chunked
/// prefill) the ids of the last keys. With
/// Geometry::independentDocuments each side draws its own.
HostTensor makeInput(const attnrt::ParamSpec &p, AttentionOp op,
                     const Geometry &g, std::mt19937 &rng);

/// Valid block-sparse operands: per q block, a random subset of kv blocks.
void fillBlockSparse(HostTensor &counts, HostTensor &indices,
                     std::mt19937 &rng);

/// The query-key pairs the mask leaves visible, summed over batch entries
/// and heads with these operands and lengths.
double countVisiblePairs(AttentionOp op,
                         std::map<std::string, HostTensor> &tensors,
                         const Geometry &geometry);

} // namespace mlir::attn

#endif // ATTN_REFERENCE_RANDOMINPUTS_H
