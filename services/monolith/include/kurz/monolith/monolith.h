#pragma once
// Every kurz module composed into one process. Where the state lives is the Backend's business:
// process memory (stage 1, MemoryBackend) or Redis (stage 2, RedisBackend). The same modules,
// composed one per process, are the stage 3 microservices: that is the workshop's lesson.

#include <memory>
#include <string>

#include "kurz/common/click.h"
#include "kurz/common/clock.h"
#include "kurz/links/link_store.h"
#include "kurz/links/rate_limiter.h"
#include "kurz/platform/metrics.h"
#include "kurz/platform/router.h"
#include "kurz/stats/stats_store.h"

namespace kurz::monolith {

struct Settings {
  std::string public_base_url;
  std::string api_key;
  links::RateLimit create_limit;  // per client and window; limit 0: unlimited
};

// The stores the monolith works on. All references must outlive the Monolith.
struct Backend {
  links::LinkStore& links;
  const links::LinkReader& redirect_links;  // what redirects and QR codes read: may be a cache
  links::RateLimiter& limiter;
  const stats::StatsStore& stats;
  common::ClickSink& clicks;  // where redirects record their clicks
};

// Stage 1: everything in process memory; clicks are counted synchronously.
class MemoryBackend {
 public:
  MemoryBackend(links::RateLimit limit, const common::Clock& clock);
  ~MemoryBackend();
  Backend backend();

 private:
  struct Stores;
  std::unique_ptr<Stores> stores_;
};

class Monolith {
 public:
  // `clock`, `metrics` and the backend's stores must outlive the Monolith.
  Monolith(const Settings& settings, const common::Clock& clock, platform::Metrics& metrics,
           Backend backend);
  ~Monolith();
  Monolith(const Monolith&) = delete;
  Monolith& operator=(const Monolith&) = delete;

  // Adds every public route (API, redirects, stats, QR, web UI). The Monolith must outlive the
  // router.
  void add_routes(platform::Router& router);

 private:
  struct Services;
  Settings settings_;
  const common::Clock& clock_;
  platform::Metrics& metrics_;
  Backend backend_;
  std::unique_ptr<Services> services_;
};

}  // namespace kurz::monolith
