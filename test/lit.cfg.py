# -*- Python -*- lit configuration for the Attn regression tests.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "Attn"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".yaml", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Unit"]

# Compiled kernels are cached in a fresh directory per lit run (never in
# $HOME, and never reused from an older build of the compiler).
import atexit
import shutil
import tempfile

_cache_dir = tempfile.mkdtemp(prefix="attn-kernel-cache-")
atexit.register(shutil.rmtree, _cache_dir, ignore_errors=True)
config.environment["ATTN_CACHE_DIR"] = _cache_dir
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attn_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%attn_src_root", config.attn_src_root))
config.substitutions.append(("%attn_obj_root", config.attn_obj_root))
config.environment["FILECHECK_OPTS"] = "--enable-var-scope --allow-unused-prefixes=false"

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.attn_tools_dir, config.llvm_tools_dir]
tools = ["attn-opt", "attn-compile", "attn-run", "attn-spec-fuzzer",
         "attn-expr-fuzzer", "attn-manifest-fuzzer", "attn-npy-fuzzer",
         "attn-capi-fuzzer", "attn-c-example"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# ptxas (CUDA_HOME/bin, PATH or /usr/local/cuda/bin): the GPU kernels'
# resource checks run where it is installed.
_cuda_bins = [os.path.join(os.environ[v], "bin")
              for v in ("CUDA_HOME", "CUDA_PATH") if os.environ.get(v)]
_ptxas = shutil.which("ptxas", path=os.pathsep.join(
    _cuda_bins + [os.environ.get("PATH", ""), "/usr/local/cuda/bin"]))
if _ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", _ptxas))
