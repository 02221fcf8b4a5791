#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "kurz/common/error.h"
#include "kurz/links/link.h"

namespace kurz::links {

// The longest target URL accepted, in bytes.
inline constexpr std::size_t kMaxUrlBytes = 2048;
// The longest URI to_uri makes of one: every byte may become %XX.
inline constexpr std::size_t kMaxUriBytes = 3 * kMaxUrlBytes;

// Checks that `url` is safe to shorten. nullopt when it is; otherwise an Invalid error with code
// "invalid_url" and a message saying why. The rules:
//  - absolute http or https only (scheme case-insensitive): javascript:, data:, file:, ftp:, ...
//    and scheme-relative "//host" or "http:host" forms are rejected;
//  - a non-empty host (reg-name, IPv4, or a bracketed IPv6 literal such as [::1]); userinfo is
//    allowed but not without a host; an explicit port must be 1..65535;
//  - an internationalised host name (non-ASCII) must have an IDNA 2008 A-label (UTS #46
//    non-transitional mapping, as browsers do): "bücher.example" is fine, "a..b" with an emoji
//    label or a label starting "xn--" that is not punycode is not;
//  - at most kMaxUrlBytes bytes of valid UTF-8, with no spaces, no control characters (C0, DEL,
//    C1) and no invisible bidi/line-separator characters (U+2028, U+2029, U+202A..U+202E,
//    U+2066..U+2069, U+FEFF).
// The URL is not normalised or resolved; it is stored exactly as given (what the API shows).
// Pure and thread-safe.
std::optional<common::Error> validate_url(std::string_view url);

// The target as a URI (RFC 3986), what a redirect's Location carries (RFC 9110 §10.2.2); nullopt
// when validate_url refuses `url`, except for a non-ASCII host that has no A-label (a link stored
// before that rule): its UTF-8 is percent-encoded instead (RFC 3986 §3.2.2), so that the link
// keeps redirecting. ASCII only: the host of an internationalised name becomes its
// A-label ("xn--bcher-kva.example"); every byte outside the URI's allowed characters for its part
// (non-ASCII as UTF-8, space, '"', '<', '>', '\', '^', '`', '{', '|', '}', '[' and ']' outside an
// IPv6 literal, a second '#', a '%' not followed by two hex digits) is percent-encoded as %XX.
// What is already percent-encoded stays as it is (never encoded twice); the scheme, an ASCII
// host, the port and every allowed character are kept byte for byte, so a plain ASCII URL comes
// back unchanged. Percent-decoding the result gives the percent-decoded `url` again, with the host
// as its A-label. At most kMaxUriBytes long: the encoding can make it longer than kMaxUrlBytes
// (and then not a target validate_url would accept, only by its length). Pure and thread-safe.
std::optional<std::string> to_uri(std::string_view url);

// Checks `link.url` once, when the link enters a reader that keeps it (the memory store, the
// cache), so that the redirect serves it without checking or encoding it on every visit: sets
// `target_valid`, and `location` to to_uri(url) when that differs from `url` (else empty: the
// common ASCII case costs nothing more per redirect).
void prepare_target(Link& link);

// What a redirect sends in Location for a link that went through prepare_target.
inline const std::string& location_of(const Link& link) {
  return link.location.empty() ? link.url : link.location;
}

}  // namespace kurz::links
