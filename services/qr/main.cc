// kurz-qr (stage 3): renders a link's short URL as a QR code. Pure computation once the link is
// known to exist: the clean horizontal-scaling demo. Link lookups go through a per-instance cache.
#include "kurz/common/clock.h"
#include "kurz/links/cached_link_reader.h"
#include "kurz/links/redis/redis_link_store.h"
#include "kurz/platform/service_main.h"
#include "kurz/qr/http/routes.h"
#include "kurz/redis/service.h"

namespace {

struct Qr {
  Qr(kurz::redis::Client& redis, std::chrono::milliseconds ttl, std::size_t capacity)
      : store(redis), cache(store, clock, ttl, capacity) {}
  kurz::common::SystemClock clock;
  kurz::links::redis::RedisLinkStore store;
  kurz::links::CachedLinkReader cache;
};

}  // namespace

int main() {
  return kurz::platform::run_service("qr", [](auto& context, auto& router) {
    const auto ttl =
        context.env.millis("LINK_CACHE_TTL_MS", std::chrono::seconds(30), std::chrono::hours(1));
    const auto capacity = context.env.integer("LINK_CACHE_SIZE", 10000, 1, 10'000'000);
    auto redis = kurz::redis::connect(context);
    auto qr = std::make_shared<Qr>(*redis, ttl, static_cast<std::size_t>(capacity));
    kurz::qr::http::add_routes(router, qr->cache, qr->clock, context.metrics,
                               context.config.public_base_url);
    context.owned.push_back(qr);
  });
}
