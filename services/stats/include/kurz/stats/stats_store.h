#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "kurz/common/click.h"
#include "kurz/common/error.h"
#include "kurz/stats/link_stats.h"

namespace kurz::stats {

// Per-link click aggregates (process memory, or Redis hashes and sorted sets).
// Implementations must be thread-safe; any operation of a store over the network may fail with
// an Unavailable error. Stats are keyed by code only: they know nothing of whether the link still
// exists (StatsService checks that).
class StatsStore {
 public:
  virtual ~StatsStore() = default;

  // Counts one click: total, its UTC day, its normalised referrer and user agent (see
  // normalize.h; the event carries raw header values).
  virtual common::Result<void> apply(const common::ClickEvent& event) = 0;

  // The aggregates of `code`, with at most `top_n` referrers and user agents; nullopt when the
  // code was never clicked.
  virtual common::Result<std::optional<LinkStats>> link_stats(std::string_view code,
                                                              std::size_t top_n) const = 0;

  // Up to `limit` codes with the most clicks, most first, ties by code ascending.
  virtual common::Result<std::vector<TopLink>> top_links(std::size_t limit) const = 0;
};

}  // namespace kurz::stats
