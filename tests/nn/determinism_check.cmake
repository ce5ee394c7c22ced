# ctest -P script: the same seed gives bit-identical weights in two separate runs. Runs
# RUNNER (determinism_run) twice with SEED, as two processes, and compares the saved files byte
# for byte; a third run with another seed must differ (the comparison can fail).
# Inputs: RUNNER, WORK_DIR, SEED.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
math(EXPR other_seed "${SEED} + 1")
foreach(run IN ITEMS "a;${SEED}" "b;${SEED}" "c;${other_seed}")
  list(GET run 0 name)
  list(GET run 1 seed)
  execute_process(COMMAND "${RUNNER}" "${WORK_DIR}/${name}.xgt" ${seed}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "run ${name}: ${out}")
  if(rc)
    message(FATAL_ERROR "run ${name} failed (${rc}):\n${out}\n${err}")
  endif()
  file(SHA256 "${WORK_DIR}/${name}.xgt" hash_${name})
  file(SIZE "${WORK_DIR}/${name}.xgt" size_${name})
  message(STATUS "run ${name}: ${size_${name}} bytes, sha256 ${hash_${name}}")
endforeach()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORK_DIR}/a.xgt" "${WORK_DIR}/b.xgt"
                RESULT_VARIABLE differ)
if(differ)
  message(FATAL_ERROR "two runs with seed ${SEED} saved different weights: "
                      "${hash_a} and ${hash_b}")
endif()
if(hash_a STREQUAL hash_c)
  message(FATAL_ERROR "seeds ${SEED} and ${other_seed} saved the same weights: "
                      "the seed does not reach the training")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
