// kurz-monolith: every module in one process. Stage 1 keeps state in memory; stage 2 (REDIS_URL
// set) keeps it in Redis. Configuration: see the README's table.
#include "kurz/common/clock.h"
#include "kurz/links/http/routes.h"
#include "kurz/monolith/monolith.h"
#include "kurz/platform/service_main.h"

int main() {
  return kurz::platform::run_service("monolith", [](auto& context, auto& router) {
    if (!context.config.redis_url.empty()) {
      context.env.problem(
          "REDIS_URL is set, but this build keeps state in memory only (stage 1); unset it");
    }
    const auto limit = kurz::links::http::read_rate_limit(context.env);
    auto clock = std::make_shared<kurz::common::SystemClock>();
    auto backend = std::make_shared<kurz::monolith::MemoryBackend>(limit, *clock);
    auto monolith = std::make_shared<kurz::monolith::Monolith>(
        kurz::monolith::Settings{context.config.public_base_url, context.config.api_key, limit},
        *clock, context.metrics, backend->backend());
    monolith->add_routes(router);
    context.owned.push_back(clock);
    context.owned.push_back(backend);
    context.owned.push_back(monolith);
  });
}
