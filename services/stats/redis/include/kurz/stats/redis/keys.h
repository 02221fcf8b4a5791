#pragma once
// The Redis key layout of click events and stats. These keys are a contract between the
// redirect service (producer), the stats service (consumer and queries) and the stage 2 monolith,
// which all share them; links live under kurz:link:* and kurz:links:* (not here).
//
//   kurz:clicks:v2, kurz:clicks  the click streams and their counters and producer keys: their
//                               contract is services/clickstream's stream.h (the group "stats"
//                               reads both streams)
//
//   kurz:stats:<code>           hash: total  -> clicks ever counted
//                                     newest -> day number of the newest click counted
//   kurz:stats:<code>:days      hash: day number (days since 1970-01-01 UTC) -> clicks;
//                               only days in (newest - kDaysKept, newest]
//   kurz:stats:<code>:ref       sorted set: normalised referrer -> clicks; at most
//                               kMaxNamesPerLink names, further clicks count under "other"
//   kurz:stats:<code>:ua        sorted set: normalised user agent -> clicks; same bound
//   kurz:stats:top              sorted set: code -> total clicks
//
// <code> is always a well-formed, non-reserved short code ([A-Za-z0-9_-], see links/slug.h), so
// no code's keys can collide with kurz:stats:top ("top" is reserved). Clicks of any other code
// are acknowledged but not counted. Scripts touch keys they compute, so this layout needs a
// single Redis (or a primary with replicas), not Redis Cluster.

#include <string>
#include <string_view>

#include "kurz/clickstream/stream.h"

namespace kurz::stats::redis {

inline constexpr std::string_view kStatsGroup = clickstream::kGroup;
inline constexpr std::string_view kStatsPrefix = "kurz:stats:";
inline constexpr std::string_view kTopKey = "kurz:stats:top";

inline std::string link_key(std::string_view code) {
  return std::string(kStatsPrefix).append(code);
}

}  // namespace kurz::stats::redis
