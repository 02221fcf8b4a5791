#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kurz::stats {

// Names of the buckets that are not a referrer host or user agent.
inline constexpr std::string_view kDirect = "direct";    // no referrer
inline constexpr std::string_view kOther = "other";      // unparsable, or over a bound
inline constexpr std::string_view kUnknown = "unknown";  // no user agent
inline constexpr std::size_t kMaxUserAgentName = 200;

// The bucket for a raw Referer header: "direct" when empty; otherwise the lower-cased host of the
// URL (scheme, userinfo, port, path, query and a trailing dot removed; IPv6 hosts keep their
// brackets); "other" when it is not an absolute URL with a plausible host. The result is always
// valid UTF-8 of at most 255 bytes. Pure and thread-safe.
std::string normalize_referrer(std::string_view referrer);

// The bucket for a raw User-Agent header: "unknown" when empty; otherwise the value made valid
// UTF-8 and cut to at most kMaxUserAgentName bytes at a character boundary.
std::string normalize_user_agent(std::string_view user_agent);

}  // namespace kurz::stats
