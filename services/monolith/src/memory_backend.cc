#include "kurz/links/memory_link_store.h"
#include "kurz/monolith/monolith.h"
#include "kurz/stats/memory_stats_store.h"

namespace kurz::monolith {

struct MemoryBackend::Stores {
  Stores(links::RateLimit limit, const common::Clock& clock) : limiter(limit, clock) {}
  links::MemoryLinkStore links;
  links::MemoryRateLimiter limiter;
  stats::MemoryStatsStore stats;  // also the click sink
};

MemoryBackend::MemoryBackend(links::RateLimit limit, const common::Clock& clock)
    : stores_(std::make_unique<Stores>(limit, clock)) {}

MemoryBackend::~MemoryBackend() = default;

Backend MemoryBackend::backend() {
  return Backend{stores_->links, stores_->links, stores_->limiter, stores_->stats, stores_->stats};
}

}  // namespace kurz::monolith
