#pragma once
// The Redis key layout of click events and stats. These keys are a contract between the
// redirect service (producer), the stats service (consumer and queries) and the stage 2 monolith,
// which all share them; links live under kurz:link:* and kurz:links:* (not here).
//
//   kurz:clicks                 stream of click events, one entry per click, fields
//                                 t epoch ms (UTC), c code, r raw referrer, u raw user agent
//                               (appended by services/redirect/redis/click_publisher.h; trimmed
//                               only by the consumer, below what every group has acknowledged)
//   kurz:clicks:producer:<id>   string: a producer's last appended batch sequence (TTL 1 day)
//   group "stats" on kurz:clicks  the stats workers; consumer name = instance id
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
// no code's keys can collide with kurz:stats:top ("top" is reserved). Events of any other code
// are acknowledged but not counted. Scripts touch keys they compute, so this layout needs a
// single Redis (or a primary with replicas), not Redis Cluster.

#include <string>
#include <string_view>

namespace kurz::stats::redis {

inline constexpr std::string_view kClickStream = "kurz:clicks";
inline constexpr std::string_view kStatsGroup = "stats";
inline constexpr std::string_view kStatsPrefix = "kurz:stats:";
inline constexpr std::string_view kTopKey = "kurz:stats:top";

inline std::string link_key(std::string_view code) {
  return std::string(kStatsPrefix).append(code);
}

}  // namespace kurz::stats::redis
