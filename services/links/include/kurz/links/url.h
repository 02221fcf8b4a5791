#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "kurz/common/error.h"

namespace kurz::links {

// The longest target URL accepted, in bytes.
inline constexpr std::size_t kMaxUrlBytes = 2048;

// Checks that `url` is safe to shorten. nullopt when it is; otherwise an Invalid error with code
// "invalid_url" and a message saying why. The rules:
//  - absolute http or https only (scheme case-insensitive): javascript:, data:, file:, ftp:, ...
//    and scheme-relative "//host" or "http:host" forms are rejected;
//  - a non-empty host (reg-name, IPv4, or a bracketed IPv6 literal such as [::1]); userinfo is
//    allowed but not without a host; an explicit port must be 1..65535;
//  - at most kMaxUrlBytes bytes of valid UTF-8, with no spaces, no control characters (C0, DEL,
//    C1) and no invisible bidi/line-separator characters (U+2028, U+2029, U+202A..U+202E,
//    U+2066..U+2069, U+FEFF).
// The URL is not normalised or resolved; it is stored exactly as given. Pure and thread-safe.
std::optional<common::Error> validate_url(std::string_view url);

}  // namespace kurz::links
