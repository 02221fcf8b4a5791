# kurz_warnings: the project's warning set, linked PRIVATE by every target.
add_library(kurz_warnings INTERFACE)
target_compile_options(kurz_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wdouble-promotion -Wformat=2
  -Wimplicit-fallthrough)
if(KURZ_WARNINGS_AS_ERRORS)
  target_compile_options(kurz_warnings INTERFACE -Werror)
endif()
