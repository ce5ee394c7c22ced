# ctest -P script: a run killed mid-epoch (SIGKILL, a separate process) and resumed from its
# last checkpoint ends bit-identical to an uninterrupted run. Runs RUNNER (resume_run) as three
# processes: "full" in WORK_DIR/a; "killed" (dies during step KILL_STEP) then "resume" in
# WORK_DIR/b. Compares the final weights, optimizer state and Dropout generators, the best-model
# file and the last number drawn from manual_seed's stream byte for byte, and the metrics logs
# without their timing column.
# Inputs: RUNNER, WORK_DIR, KILL_STEP.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/a" "${WORK_DIR}/b")

function(run dir)
  execute_process(COMMAND "${RUNNER}" "${WORK_DIR}/${dir}" ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "${ARGN}: rc=${rc} ${out}${err}")
  set(rc "${rc}" PARENT_SCOPE)
endfunction()

run(a full)
if(rc)
  message(FATAL_ERROR "the uninterrupted run failed (${rc})")
endif()
run(b killed ${KILL_STEP})
if(rc EQUAL 0)
  message(FATAL_ERROR "the killed run was not killed (rc 0): step ${KILL_STEP} never came")
endif()
if(NOT EXISTS "${WORK_DIR}/b/last.xgt")
  message(FATAL_ERROR "the killed run left no checkpoint")
endif()
if(EXISTS "${WORK_DIR}/b/final.xgt")
  message(FATAL_ERROR "the killed run finished: it was not killed mid-run")
endif()
run(b resume)
if(rc)
  message(FATAL_ERROR "the resumed run failed (${rc})")
endif()

foreach(f IN ITEMS final.xgt best.xgt draw.txt)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORK_DIR}/a/${f}"
                          "${WORK_DIR}/b/${f}" RESULT_VARIABLE differ)
  if(differ)
    file(SHA256 "${WORK_DIR}/a/${f}" ha)
    file(SHA256 "${WORK_DIR}/b/${f}" hb)
    message(FATAL_ERROR "${f} differs between the uninterrupted and the resumed run: "
                        "${ha} and ${hb}")
  endif()
endforeach()

# Every metrics row but its seconds column.
foreach(d IN ITEMS a b)
  file(STRINGS "${WORK_DIR}/${d}/metrics.csv" lines)
  set(rows_${d} "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE ",[^,]*$" "" row "${line}")
    list(APPEND rows_${d} "${row}")
  endforeach()
endforeach()
list(LENGTH rows_a n)
if(NOT n EQUAL 5)
  message(FATAL_ERROR "the uninterrupted metrics log has ${n} lines, expected a header and 4 rows")
endif()
if(NOT rows_a STREQUAL rows_b)
  message(FATAL_ERROR "the metrics logs differ:\n${rows_a}\n${rows_b}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
