# xgrad::perceptron: the course perceptron (binary, multiclass, trace, exact convergence check)
# and the perceptron as one engine neuron. Its own small target on top of xgrad::autograd only.

add_library(xgrad_perceptron ${CMAKE_CURRENT_LIST_DIR}/perceptron.cpp)
add_library(xgrad::perceptron ALIAS xgrad_perceptron)
set_target_properties(xgrad_perceptron PROPERTIES EXPORT_NAME perceptron
                                                  OUTPUT_NAME xgrad_perceptron)
target_link_libraries(xgrad_perceptron PUBLIC xgrad_autograd)
target_compile_features(xgrad_perceptron PUBLIC cxx_std_17)
xgrad_target_options(xgrad_perceptron)

include(GNUInstallDirs)
install(TARGETS xgrad_perceptron EXPORT xgradTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${CMAKE_CURRENT_LIST_DIR}/perceptron.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/xgrad/nn)
