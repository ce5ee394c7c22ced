# Warnings, architecture and sanitizers, set on xgrad's own targets only (never globally).

# Compile-time settings for the TUs that include xtensor (autograd/xt.h). Build-only: nothing
# of xtensor reaches an installed header.
add_library(xgrad_xtensor INTERFACE)
target_link_libraries(xgrad_xtensor INTERFACE xtensor xtensor-blas)
target_compile_definitions(xgrad_xtensor INTERFACE $<$<CONFIG:Debug>:XTENSOR_ENABLE_ASSERT>)

# Warnings are errors on our own targets (CI builds this way; off only for a compiler whose new
# warnings we have not seen). xtensor comes in through imported targets, so its headers are
# -isystem and its own code warns nothing; g++ 12's false positives that surface at the point
# of inlining into our code are handled where they occur (XTENSOR notes, pitfall 17).
option(XGRAD_WERROR "Treat warnings as errors on xgrad's own targets" ON)

function(xgrad_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion)
  if(XGRAD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(XGRAD_ARCH)
    target_compile_options(${target} PRIVATE -march=${XGRAD_ARCH})
  endif()
  if(XGRAD_SANITIZE)
    set(sanitizers ${XGRAD_SANITIZE})
    if(sanitizers STREQUAL "ON")
      set(sanitizers address,undefined)
    endif()
    target_compile_options(${target} PRIVATE -fsanitize=${sanitizers} -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${sanitizers})
  endif()
endfunction()
