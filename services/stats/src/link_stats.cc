#include "kurz/stats/link_stats.h"

#include <algorithm>

namespace kurz::stats {

std::vector<NamedCount> top_names(std::vector<NamedCount> all, std::size_t top_n) {
  const auto better = [](const NamedCount& a, const NamedCount& b) {
    return a.clicks != b.clicks ? a.clicks > b.clicks : a.name < b.name;
  };
  const std::size_t n = std::min(top_n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), better);
  all.resize(n);
  return all;
}

}  // namespace kurz::stats
