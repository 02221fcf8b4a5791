#include "kurz/stats/stats_service.h"

#include <string>

#include "kurz/links/slug.h"

namespace kurz::stats {

using common::Error;
using common::ErrorKind;

common::Result<LinkStats> StatsService::stats(std::string_view code) const {
  const Error not_found{ErrorKind::NotFound, "not_found", "no short link exists with this code"};
  if (!links::is_well_formed_code(code)) return not_found;
  const auto link = links_.find(code);
  if (!link.ok()) return link.error();
  if (!link.value()) return not_found;
  auto found = stats_.link_stats(code, kTopNames);
  if (!found.ok()) return found.error();
  if (found.value()) return std::move(*found.value());
  return LinkStats{std::string(code), 0, {}, {}, {}};
}

common::Result<std::vector<TopLink>> StatsService::top(std::size_t limit) const {
  if (limit < 1 || limit > kMaxTopLinks) {
    return Error{ErrorKind::Invalid, "invalid_parameter",
                 "limit must be between 1 and " + std::to_string(kMaxTopLinks)};
  }
  // Ask for some spare entries so that a few deleted links do not shorten the answer.
  auto candidates = stats_.top_links(limit * 2);
  if (!candidates.ok()) return candidates.error();
  std::vector<TopLink> top;
  top.reserve(limit);
  for (TopLink& candidate : candidates.value()) {
    if (top.size() == limit) break;
    const auto link = links_.find(candidate.code);
    if (!link.ok()) return link.error();
    if (link.value()) top.push_back(std::move(candidate));
  }
  return top;
}

}  // namespace kurz::stats
