# kurz_sanitizers: the sanitizers KURZ_SANITIZE names, linked PRIVATE by every target.
#   address (or ON): AddressSanitizer + UndefinedBehaviorSanitizer (the preset asan)
#   thread:          ThreadSanitizer (the preset tsan); it cannot be combined with ASan
# Tests that exercise images or the optimised build rather than our code skip themselves with
# `if(NOT KURZ_SANITIZE)`, which holds for both values.
add_library(kurz_sanitizers INTERFACE)
string(TOLOWER "${KURZ_SANITIZE}" _kurz_sanitize)
if(_kurz_sanitize STREQUAL "thread")
  target_compile_options(kurz_sanitizers INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(kurz_sanitizers INTERFACE -fsanitize=thread)
elseif(_kurz_sanitize STREQUAL "address" OR KURZ_SANITIZE)
  target_compile_options(kurz_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(kurz_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

# kurz_defaults: what every kurz target links PRIVATE.
add_library(kurz_defaults INTERFACE)
target_link_libraries(kurz_defaults INTERFACE kurz_warnings kurz_sanitizers)
