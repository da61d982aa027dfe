#===- AddAttn.cmake - Attn library helpers ------------------*- cmake -*-===//
#
# Thin wrappers over add_mlir_library that record each library in a global
# property, so tools link the set without listing it (circt/cmake/modules/AddCIRCT.cmake).
# Every library links the MLIR and LLVM shared libraries, never the static archives.
#
#===----------------------------------------------------------------------===//

function(add_attn_library name)
  add_mlir_library(${ARGV} DISABLE_INSTALL)
  target_link_libraries(${name} PUBLIC MLIR LLVM)
  set_property(GLOBAL APPEND PROPERTY ATTN_ALL_LIBS ${name})
endfunction()

function(add_attn_dialect_library name)
  set_property(GLOBAL APPEND PROPERTY ATTN_DIALECT_LIBS ${name})
  add_attn_library(${ARGV})
endfunction()

function(add_attn_conversion_library name)
  set_property(GLOBAL APPEND PROPERTY ATTN_CONVERSION_LIBS ${name})
  add_attn_library(${ARGV})
endfunction()

function(add_attn_tool name)
  add_llvm_executable(${ARGV})
  llvm_update_compile_flags(${name})
endfunction()
