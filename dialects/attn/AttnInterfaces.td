//===- AttnInterfaces.td - Attn attribute interfaces -------*- tablegen -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_ATTNINTERFACES_TD
#define ATTN_DIALECT_ATTN_ATTNINTERFACES_TD

include "mlir/IR/OpBase.td"

class Attn_ComponentInterface<string name, string doc>
    : AttrInterface<name> {
  let cppNamespace = "::mlir::attn";
  let description = doc;
  let methods = [
    InterfaceMethod<[{
        Appends the optional operands of `attn.attention` that this component
        reads. The op verifier checks that exactly the operands some component
        reads are present.
      }], "void", "getRequiredOperands",
      (ins "::llvm::SmallVectorImpl<::mlir::attn::OperandKind> &":$kinds),
      "", [{ return; }]>,
    InterfaceMethod<[{
        Checks the component against the problem shape (sequence lengths,
        head counts, head dims); dynamic sizes are not checked. Reports
        through `emitError` and fails on a mismatch.
      }], "::llvm::LogicalResult", "verifyShape",
      (ins "const ::mlir::attn::ProblemShape &":$shape,
           "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError),
      "", [{ return ::mlir::success(); }]>
  ];
}

def Attn_MaskAttrInterface : Attn_ComponentInterface<"MaskAttrInterface", [{
    A node of the mask algebra: a structured primitive (causal, window, ...)
    or a combinator (`and`, `or`, `not`, `on_heads`). A key is visible to a
    query when the mask holds for the pair.
  }]>;

def Attn_ScoreModAttrInterface : Attn_ComponentInterface<"ScoreModAttrInterface", [{
    A score modifier, applied in order to the scaled score `s = scale * q.k`.
  }]>;

#endif // ATTN_DIALECT_ATTN_ATTNINTERFACES_TD
