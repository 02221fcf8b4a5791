#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "kurz/common/click.h"
#include "kurz/stats/stats_store.h"

namespace kurz::stats {

// Bounds on the memory one link's stats may take.
inline constexpr std::size_t kMaxNamesPerLink = 256;  // distinct referrers (and user agents)
inline constexpr std::int64_t kDaysKept = 90;

// StatsStore in process memory, and also the ClickSink that feeds it directly (stages 1 and 2:
// record() is apply()). Thread-safe: one mutex; apply normalises outside it and then does a few
// hashed lookups inside, so it is cheap enough for the redirect path.
//
// Bounds per link: at most kMaxNamesPerLink distinct referrer and user-agent names each; clicks
// from further names are counted under "other". Per-day counts are kept for the kDaysKept days
// ending at the newest day seen for that link; older clicks still count in `total`.
class MemoryStatsStore final : public StatsStore, public common::ClickSink {
 public:
  MemoryStatsStore() = default;
  MemoryStatsStore(const MemoryStatsStore&) = delete;
  MemoryStatsStore& operator=(const MemoryStatsStore&) = delete;

  common::Result<void> apply(const common::ClickEvent& event) override;
  void record(common::ClickEvent event) override { apply(event); }
  common::Result<std::optional<LinkStats>> link_stats(std::string_view code,
                                                      std::size_t top_n) const override;
  common::Result<std::vector<TopLink>> top_links(std::size_t limit) const override;

 private:
  using Counts = std::unordered_map<std::string, std::uint64_t>;
  struct PerLink {
    std::uint64_t total = 0;
    std::map<std::int64_t, std::uint64_t> days;  // day number → clicks
    Counts referrers;
    Counts user_agents;
  };

  mutable std::mutex mutex_;
  std::unordered_map<std::string, PerLink> links_;
};

}  // namespace kurz::stats
