#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kurz::common {

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above
// U+10FFFF). The empty string is valid.
bool is_valid_utf8(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` bytes that does not cut a multi-byte
// sequence in half. `text` should be valid UTF-8; on invalid input it still never reads past the
// end and cuts only before a lead byte.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

// Copies untrusted bytes (e.g. an HTTP header) into valid UTF-8 of at most `max_bytes` bytes:
// every byte that is not part of a well-formed sequence becomes U+FFFD, and the result is cut at
// a character boundary. One allocation; safe to call on the hot path.
std::string sanitize_utf8(std::string_view text, std::size_t max_bytes);

}  // namespace kurz::common
