# Runs init_order_main built by the project's compiler (GCC_RUNNER) and by clang++
# (CLANG_RUNNER): each must succeed (both construction forms agree) and both must print the
# same digests (the same seed gives the same network with either compiler).
foreach(runner GCC_RUNNER CLANG_RUNNER)
  execute_process(COMMAND ${${runner}} RESULT_VARIABLE rc OUTPUT_VARIABLE out_${runner}
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${${runner}} failed (${rc}): ${out_${runner}}${err}")
  endif()
endforeach()
if(NOT out_GCC_RUNNER STREQUAL out_CLANG_RUNNER)
  message(FATAL_ERROR "the compilers disagree:\n${GCC_RUNNER}:\n${out_GCC_RUNNER}"
                      "${CLANG_RUNNER}:\n${out_CLANG_RUNNER}")
endif()
message(STATUS "both compilers: ${out_GCC_RUNNER}")
