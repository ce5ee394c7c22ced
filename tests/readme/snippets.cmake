# Every ```cpp block of README.md becomes a program that is built and run as a test, so that
# the README cannot drift from the code. A block with its own main() is compiled as it is; any
# other block is the body of a main() with the umbrella headers and `using namespace xgrad`
# around it. Each runs in a fresh directory of its own (snippets write files: out/, figures).
# Read at configure time; editing README.md re-runs the configure step.
set(xgrad_readme ${PROJECT_SOURCE_DIR}/README.md)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${xgrad_readme})
file(READ ${xgrad_readme} xgrad_readme_text)
set(xgrad_snippet_dir ${CMAKE_CURRENT_BINARY_DIR}/readme)
file(MAKE_DIRECTORY ${xgrad_snippet_dir})
set(fence_open "```cpp\n")
string(LENGTH "${fence_open}" fence_open_length)
set(index 0)
set(rest "${xgrad_readme_text}")
while(TRUE)
  string(FIND "${rest}" "${fence_open}" start)
  if(start EQUAL -1)
    break()
  endif()
  math(EXPR start "${start} + ${fence_open_length}")
  string(SUBSTRING "${rest}" ${start} -1 rest)
  string(FIND "${rest}" "```" stop)
  if(stop EQUAL -1)
    message(FATAL_ERROR "README.md: a ```cpp block is not closed")
  endif()
  string(SUBSTRING "${rest}" 0 ${stop} code)
  string(SUBSTRING "${rest}" ${stop} -1 rest)
  math(EXPR index "${index} + 1")
  set(source ${xgrad_snippet_dir}/snippet_${index}.cpp)
  if(code MATCHES "int main\\(")
    set(program "// README.md, C++ block ${index}, as it is.\n${code}")
  else()
    set(program "// README.md, C++ block ${index}, as the body of a main().\n#include <filesystem>\n#include <iostream>\n\n#include \"autograd/autograd.h\"\n#include \"nn/data/data.h\"\n#include \"nn/nn.h\"\nusing namespace xgrad;\n\nint main() {\n${code}}\n")
  endif()
  file(CONFIGURE OUTPUT ${source} CONTENT "${program}" @ONLY)
  add_executable(xgrad_readme_snippet_${index} ${source})
  target_link_libraries(xgrad_readme_snippet_${index} PRIVATE xgrad::nn)
  target_include_directories(xgrad_readme_snippet_${index} PRIVATE ${PROJECT_SOURCE_DIR})
  xgrad_target_options(xgrad_readme_snippet_${index})
  # The Fashion-MNIST training snippet (10 epochs on 60000 images, ~10 s optimised) is only
  # compiled under the sanitizers, where it would take minutes.
  if(XGRAD_SANITIZE AND code MATCHES "load_mnist")
    continue()
  endif()
  add_test(NAME Readme.Snippet${index}CompilesAndRuns
    COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:xgrad_readme_snippet_${index}>
            -DWORK_DIR=${xgrad_snippet_dir}/run_${index}
            -P ${CMAKE_CURRENT_SOURCE_DIR}/readme/run_snippet.cmake)
endwhile()
if(index EQUAL 0)
  message(FATAL_ERROR "README.md: no ```cpp block found")
endif()
