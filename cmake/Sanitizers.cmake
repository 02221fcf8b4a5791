# kurz_sanitizers: ASan + UBSan when KURZ_SANITIZE is on, linked PRIVATE by every target.
add_library(kurz_sanitizers INTERFACE)
if(KURZ_SANITIZE)
  target_compile_options(kurz_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(kurz_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

# kurz_defaults: what every kurz target links PRIVATE.
add_library(kurz_defaults INTERFACE)
target_link_libraries(kurz_defaults INTERFACE kurz_warnings kurz_sanitizers)
