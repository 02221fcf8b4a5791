#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "kurz/common/error.h"
#include "kurz/links/link_store.h"
#include "kurz/stats/stats_store.h"

namespace kurz::stats {

inline constexpr std::size_t kTopNames = 10;  // referrers and user agents per link
inline constexpr std::size_t kMaxTopLinks = 100;

// The stats queries, independent of any transport. Thread-safe when the reader and store are.
class StatsService {
 public:
  StatsService(const links::LinkReader& links, const StatsStore& stats)
      : links_(links), stats_(stats) {}

  // The stats of an existing link (expired links included), with the top kTopNames referrers and
  // user agents; a link never clicked has total 0 and empty lists. NotFound "not_found" when no
  // such link exists (any more): stats of deleted links are not shown.
  common::Result<LinkStats> stats(std::string_view code) const;

  // Up to `limit` existing links with the most clicks, most first. `limit` must be
  // 1..kMaxTopLinks, else Invalid "invalid_parameter". Links deleted since they were clicked are
  // left out, so the list can be shorter than `limit` even when more links were clicked.
  common::Result<std::vector<TopLink>> top(std::size_t limit) const;

 private:
  const links::LinkReader& links_;
  const StatsStore& stats_;
};

}  // namespace kurz::stats
