#===- AddAttn.cmake - Attn library helpers ------------------*- cmake -*-===//
#
# Thin wrappers over add_mlir_library (circt/cmake/modules/AddCIRCT.cmake).
# Every library links the MLIR and LLVM shared libraries, never the static
# archives; tools name the libraries they link.
#
#===----------------------------------------------------------------------===//

function(add_attn_library name)
  add_mlir_library(${ARGV} DISABLE_INSTALL)
  target_link_libraries(${name} PUBLIC MLIR LLVM)
endfunction()

function(add_attn_tool name)
  add_llvm_executable(${ARGV})
  llvm_update_compile_flags(${name})
endfunction()
