// kurz-monolith: stage 1 (state in memory). Configuration: see the README's table.
#include "kurz/common/clock.h"
#include "kurz/monolith/monolith.h"
#include "kurz/platform/service_main.h"

int main() {
  return kurz::platform::run_service("monolith", [](auto& context, auto& router) {
    if (!context.config.redis_url.empty()) {
      context.env.problem(
          "REDIS_URL is set, but this build keeps state in memory only (stage 1); unset it");
    }
    auto clock = std::make_shared<kurz::common::SystemClock>();
    auto monolith = std::make_shared<kurz::monolith::Monolith>(
        kurz::monolith::Settings{context.config.public_base_url, context.config.api_key}, *clock,
        context.metrics);
    monolith->add_routes(router);
    context.owned.push_back(clock);
    context.owned.push_back(monolith);
  });
}
