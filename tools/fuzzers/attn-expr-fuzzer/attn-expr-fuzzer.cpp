//===- attn-expr-fuzzer.cpp - Fuzz the expr language ----------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// One input is the text of a score `expr` (any bytes, NUL included). It is
// parsed into arith/math ops over a score, the batch, head, query and key
// indices and two per-head parameters; what it builds must verify, and what
// it rejects must be a diagnostic, never a crash or a deep recursion. The
// spec fuzzer covers exprs inside specs and through the lowering.
//
//===----------------------------------------------------------------------===//

#include "attn/Spec/ScoreExpr.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;

extern "C" int LLVMFuzzerInitialize(int *, char ***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static MLIRContext *context = [] {
    auto *ctx = new MLIRContext();
    ctx->loadDialect<arith::ArithDialect, func::FuncDialect,
                     math::MathDialect>();
    return ctx;
  }();
  // Rejections are diagnostics; the fuzzer only looks for crashes.
  ScopedDiagnosticHandler quiet(context,
                                [](Diagnostic &) { return success(); });
  OpBuilder builder(context);
  Location loc = builder.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  Type f32 = builder.getF32Type(), index = builder.getIndexType();
  auto func = func::FuncOp::create(
      builder, loc, "expr",
      builder.getFunctionType({f32, index, index, index, index, f32, f32},
                              {f32}));
  Block *body = func.addEntryBlock();
  builder.setInsertionPointToEnd(body);
  llvm::StringRef names[] = {"alpha", "beta"};
  Value params[] = {body->getArgument(5), body->getArgument(6)};
  attn::ScoreExprEnv env{body->getArgument(0),
                         body->getArgument(1),
                         body->getArgument(2),
                         body->getArgument(3),
                         body->getArgument(4),
                         names,
                         params};
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  FailureOr<Value> result = attn::buildScoreExpr(
      builder, text, env, [&](size_t) -> Location { return loc; });
  if (failed(result))
    return 0;
  func::ReturnOp::create(builder, loc, *result);
  if (failed(verify(*module)))
    __builtin_trap(); // the parser built invalid IR
  return 0;
}
