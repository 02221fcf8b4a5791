#include "kurz/stats/http/routes.h"

#include <nlohmann/json.hpp>

#include "kurz/service/replies.h"

namespace kurz::stats::http {
namespace {

nlohmann::json named_counts(const std::vector<NamedCount>& counts) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& count : counts) out.push_back({{"name", count.name}, {"clicks", count.clicks}});
  return out;
}

nlohmann::json to_json(const LinkStats& stats) {
  nlohmann::json days = nlohmann::json::array();
  for (const auto& day : stats.days) days.push_back({{"date", day.date}, {"clicks", day.clicks}});
  return {{"code", stats.code},
          {"total", stats.total},
          {"days", std::move(days)},
          {"referrers", named_counts(stats.referrers)},
          {"userAgents", named_counts(stats.user_agents)}};
}

}  // namespace

void add_routes(platform::Router& router, const StatsService& service) {
  router.get("/api/stats/top", [&service](const platform::Request& request) {
    const auto limit = service::int_query(request, "limit", 10, 1, static_cast<long>(kMaxTopLinks));
    if (limit.error) return *limit.error;
    const auto top = service.top(static_cast<std::size_t>(*limit.value));
    if (!top.ok()) return service::error_reply(top.error());
    nlohmann::json items = nlohmann::json::array();
    for (const auto& link : top.value()) {
      items.push_back({{"code", link.code}, {"clicks", link.clicks}});
    }
    return service::json_reply(200, {{"items", std::move(items)}});
  });

  router.get("/api/stats/:code", [&service](const platform::Request& request) {
    const auto stats = service.stats(request.param("code"));
    if (!stats.ok()) return service::error_reply(stats.error());
    return service::json_reply(200, to_json(stats.value()));
  });
}

}  // namespace kurz::stats::http
