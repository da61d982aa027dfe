# Sourced by scripts/sanitize.sh and scripts/fuzz.sh: the sanitizers' run-time
# options.
#
# allow_user_poisoning=0: Debian's libMLIR is not instrumented, so a
# BumpPtrAllocator slab that instrumented code inlined from LLVM's headers
# poisons, and libMLIR then uses, reads as use-after-poison (in
# FileLineColLoc::get); ASan's own checks are unaffected.
export ASAN_OPTIONS=${ASAN_OPTIONS:-allow_user_poisoning=0:detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
