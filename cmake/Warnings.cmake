# Warnings and sanitizers, applied to the project's own targets through an interface target.
add_library(mpconform_options INTERFACE)
target_compile_options(mpconform_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion -Wnull-dereference
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(MPCONFORM_WERROR)
  target_compile_options(mpconform_options INTERFACE -Werror)
endif()
if(MPCONFORM_SANITIZE)
  target_compile_options(mpconform_options INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(mpconform_options INTERFACE -fsanitize=address,undefined)
  target_compile_definitions(mpconform_options INTERFACE MPCONFORM_SANITIZE=1)
endif()
