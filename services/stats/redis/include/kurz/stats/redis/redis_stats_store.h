#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "kurz/stats/stats_store.h"

namespace kurz::redis {
class Client;
}

namespace kurz::stats::redis {

// StatsStore over the Redis keys of keys.h, with the same semantics and bounds as
// MemoryStatsStore. Reads are one round trip (top_links: two). apply() counts one event directly
// (for tools and tests); in the services, ClickConsumer feeds the same keys from the stream.
// Thread-safe (the client is). Every operation fails with Unavailable while Redis is away.
class RedisStatsStore final : public StatsStore {
 public:
  explicit RedisStatsStore(kurz::redis::Client& client) : client_(client) {}

  common::Result<void> apply(const common::ClickEvent& event) override;
  common::Result<std::optional<LinkStats>> link_stats(std::string_view code,
                                                      std::size_t top_n) const override;
  common::Result<std::vector<TopLink>> top_links(std::size_t limit) const override;

 private:
  kurz::redis::Client& client_;
};

}  // namespace kurz::stats::redis
