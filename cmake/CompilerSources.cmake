#===- CompilerSources.cmake - What the compiler's identity hashes -*- cmake -*-===#
#
# The files whose contents shape a compiled artifact and its manifest: the
# compiler's sources and the runtime's mask model (the manifest carries it).
# lib/Driver rebuilds the build id when one changes; BuildId.cmake hashes
# them. Patterns are relative to the source directory.
#
#===----------------------------------------------------------------------===#
set(ATTN_COMPILER_SOURCE_GLOBS
  lib/*.cpp lib/*.h include/attn/*.h include/attn/*.td dialects/*.td
  runtime/include/attn/runtime/MaskModel.h
  runtime/lib/common/MaskModel.cpp)
