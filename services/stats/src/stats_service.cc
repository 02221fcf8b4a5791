#include "kurz/stats/stats_service.h"

#include <string>

#include "kurz/links/slug.h"

namespace kurz::stats {

using common::Error;
using common::ErrorKind;

common::Result<LinkStats> StatsService::stats(std::string_view code) const {
  if (!links::is_well_formed_code(code) || !links_.find(code)) {
    return Error{ErrorKind::NotFound, "not_found", "no short link exists with this code"};
  }
  if (auto found = stats_.link_stats(code, kTopNames)) return std::move(*found);
  return LinkStats{std::string(code), 0, {}, {}, {}};
}

common::Result<std::vector<TopLink>> StatsService::top(std::size_t limit) const {
  if (limit < 1 || limit > kMaxTopLinks) {
    return Error{ErrorKind::Invalid, "invalid_parameter",
                 "limit must be between 1 and " + std::to_string(kMaxTopLinks)};
  }
  // Ask for some spare entries so that a few deleted links do not shorten the answer.
  std::vector<TopLink> candidates = stats_.top_links(limit * 2);
  std::vector<TopLink> top;
  top.reserve(limit);
  for (TopLink& candidate : candidates) {
    if (top.size() == limit) break;
    if (links_.find(candidate.code)) top.push_back(std::move(candidate));
  }
  return top;
}

}  // namespace kurz::stats
