#include "kurz/stats/memory_stats_store.h"

#include <algorithm>
#include <queue>

#include "kurz/common/time.h"
#include "kurz/stats/normalize.h"

namespace kurz::stats {
namespace {

void count(std::unordered_map<std::string, std::uint64_t>& counts, std::string name) {
  if (const auto it = counts.find(name); it != counts.end()) {
    ++it->second;
  } else if (counts.size() < kMaxNamesPerLink) {
    counts.emplace(std::move(name), 1);
  } else {
    ++counts[std::string(kOther)];
  }
}

std::vector<NamedCount> ranked(const std::unordered_map<std::string, std::uint64_t>& counts,
                               std::size_t top_n) {
  std::vector<NamedCount> all;
  all.reserve(counts.size());
  for (const auto& [name, clicks] : counts) all.push_back({name, clicks});
  return top_names(std::move(all), top_n);
}

}  // namespace

common::Result<void> MemoryStatsStore::apply(const common::ClickEvent& event) {
  // Allocate and normalise before taking the lock.
  std::string referrer = normalize_referrer(event.referrer);
  std::string user_agent = normalize_user_agent(event.user_agent);
  const std::int64_t day = common::day_number(event.at);

  std::lock_guard lock(mutex_);
  PerLink& link = links_[event.code];
  ++link.total;
  const std::int64_t newest = link.days.empty() ? day : std::max(day, link.days.rbegin()->first);
  if (day > newest - kDaysKept) {
    ++link.days[day];
    while (link.days.begin()->first <= newest - kDaysKept) link.days.erase(link.days.begin());
  }
  count(link.referrers, std::move(referrer));
  count(link.user_agents, std::move(user_agent));
  return {};
}

common::Result<std::optional<LinkStats>> MemoryStatsStore::link_stats(std::string_view code,
                                                                      std::size_t top_n) const {
  std::lock_guard lock(mutex_);
  const auto it = links_.find(std::string(code));
  if (it == links_.end()) return std::optional<LinkStats>();
  const PerLink& link = it->second;
  LinkStats stats{std::string(code), link.total, {}, {}, {}};
  stats.days.reserve(link.days.size());
  for (const auto& [day, clicks] : link.days) {
    stats.days.push_back({common::format_day_number(day), clicks});
  }
  stats.referrers = ranked(link.referrers, top_n);
  stats.user_agents = ranked(link.user_agents, top_n);
  return std::optional<LinkStats>(std::move(stats));
}

common::Result<std::vector<TopLink>> MemoryStatsStore::top_links(std::size_t limit) const {
  if (limit == 0) return std::vector<TopLink>();
  using Entry = std::pair<std::uint64_t, const std::string*>;
  // Orders entries best first; the heap keeps the worst of the best `limit` on top: O(n log k).
  const auto better = [](const Entry& a, const Entry& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(better)> heap(better);
  std::lock_guard lock(mutex_);
  for (const auto& [code, link] : links_) {
    const Entry entry{link.total, &code};
    if (heap.size() < limit) {
      heap.push(entry);
    } else if (better(entry, heap.top())) {
      heap.pop();
      heap.push(entry);
    }
  }
  std::vector<TopLink> top(heap.size());
  for (std::size_t i = heap.size(); i-- > 0; heap.pop())
    top[i] = {*heap.top().second, heap.top().first};
  return top;
}

}  // namespace kurz::stats
