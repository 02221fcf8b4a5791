# kurz_embed_files(<target> NAMESPACE <ns> BASE_DIR <dir> FILES <f>...)
#
# Compiles the given files into <target> as byte arrays, so that a binary carries its own assets.
# The generated source defines, in namespace <ns>:
#   struct EmbeddedFile { const char* path; const unsigned char* data; std::size_t size; };
#   const EmbeddedFile* embedded_files(); std::size_t embedded_file_count();
# `path` is the file's path relative to BASE_DIR, with a leading '/'.
set(KURZ_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/EmbedFilesScript.cmake)

function(kurz_embed_files target)
  cmake_parse_arguments(ARG "" "NAMESPACE;BASE_DIR" "FILES" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_embedded.cc)
  set(abs_files)
  foreach(f IN LISTS ARG_FILES)
    list(APPEND abs_files ${ARG_BASE_DIR}/${f})
  endforeach()
  string(REPLACE ";" "|" files_arg "${ARG_FILES}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNS=${ARG_NAMESPACE} -DBASE_DIR=${ARG_BASE_DIR}
            "-DFILES=${files_arg}" -P ${KURZ_EMBED_SCRIPT}
    DEPENDS ${abs_files} ${KURZ_EMBED_SCRIPT}
    COMMENT "Embedding ${target} assets"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
