#include "kurz/links/http/routes.h"

#include <nlohmann/json.hpp>

#include "kurz/common/time.h"
#include "kurz/service/replies.h"

namespace kurz::links::http {
namespace {

using platform::Reply;
using platform::Request;

Reply invalid_request(const std::string& message) {
  return Reply::error(400, "invalid_request", message);
}

// Reads an optional string field; null counts as absent. Sets `error` on a wrong type.
std::optional<std::string> optional_string(const nlohmann::json& body, const char* field,
                                           std::optional<Reply>& error) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    error = invalid_request(std::string(field) + " must be a string");
    return std::nullopt;
  }
  return it->get<std::string>();
}

// Decodes the create request; returns the reply to send instead when the body is not usable.
std::optional<Reply> decode_create(const Request& request, CreateLink& out) {
  nlohmann::json body;
  if (auto error = service::parse_json_object(request, body, {"url", "slug", "expiresAt"})) {
    return error;
  }
  std::optional<Reply> error;
  auto url = optional_string(body, "url", error);
  if (error) return error;
  if (!url) return invalid_request("url is required");
  out.url = std::move(*url);
  out.slug = optional_string(body, "slug", error);
  if (error) return error;
  const auto expires = optional_string(body, "expiresAt", error);
  if (error) return error;
  if (expires) {
    out.expires_at = common::parse_rfc3339(*expires);
    if (!out.expires_at) {
      return Reply::error(400, "invalid_expiry",
                          "expiresAt must be an RFC 3339 date-time such as 2030-01-31T12:00:00Z");
    }
  }
  return std::nullopt;
}

// The reply when `client` is over its creation limit (429, or 503 if the limit cannot be
// checked), else nullopt.
std::optional<Reply> check_rate(RateLimiter* limiter, std::string_view client) {
  if (limiter == nullptr) return std::nullopt;
  const auto decision = limiter->hit(client);
  if (!decision.ok()) return service::error_reply(decision.error());
  if (decision.value().allowed) return std::nullopt;
  const auto seconds = (decision.value().retry_after.count() + 999) / 1000;
  auto reply =
      Reply::error(429, "rate_limited",
                   "too many create attempts from this address (successful or not); try again in " +
                       std::to_string(seconds) + " s");
  reply.with_header("Retry-After", std::to_string(seconds));
  return reply;
}

}  // namespace

RateLimit read_rate_limit(platform::EnvReader& env) {
  RateLimit limit;
  limit.limit = env.integer("RATE_LIMIT_CREATES", 60, 0, 1'000'000);
  limit.window =
      env.millis("RATE_LIMIT_WINDOW_MS", std::chrono::minutes(1), std::chrono::hours(24));
  if (limit.window.count() == 0) env.problem("RATE_LIMIT_WINDOW_MS must be at least 1");
  return limit;
}

void add_cache_metrics(platform::Metrics& metrics, const CachedLinkReader& cache) {
  auto& family = prometheus::BuildCounter()
                     .Name("kurz_link_cache_lookups_total")
                     .Help("Link lookups through this instance's cache, by result.")
                     .Register(metrics.registry());
  auto& hits = family.Add({{"result", "hit"}});
  auto& misses = family.Add({{"result", "miss"}});
  auto& stale = family.Add({{"result", "stale_while_store_down"}});
  metrics.on_scrape([&cache, &hits, &misses, &stale] {
    platform::advance_to(hits, cache.hits());
    platform::advance_to(misses, cache.misses());
    platform::advance_to(stale, cache.stale_served());
  });
}

nlohmann::json to_json(const Link& link, const std::string& public_base_url,
                       common::TimePoint now) {
  return {{"code", link.code},
          {"url", link.url},
          {"shortUrl", public_base_url + "/" + link.code},
          {"createdAt", common::format_rfc3339(link.created_at)},
          {"expiresAt", link.expires_at ? nlohmann::json(common::format_rfc3339(*link.expires_at))
                                        : nlohmann::json(nullptr)},
          {"expired", link.expired_at(now)}};
}

void add_routes(platform::Router& router, LinkService& service, platform::Metrics& metrics,
                const Options& options) {
  auto& created = prometheus::BuildCounter()
                      .Name("kurz_links_created_total")
                      .Help("Short links created, by kind of code.")
                      .Register(metrics.registry());
  auto& generated = created.Add({{"code", "generated"}});
  auto& custom = created.Add({{"code", "custom"}});
  auto& deleted = prometheus::BuildCounter()
                      .Name("kurz_links_deleted_total")
                      .Help("Short links deleted.")
                      .Register(metrics.registry())
                      .Add({});

  auto& limited = prometheus::BuildCounter()
                      .Name("kurz_links_rate_limited_total")
                      .Help("Link create attempts refused by the per-client rate limit.")
                      .Register(metrics.registry())
                      .Add({});

  router.post("/api/links",
              [&service, &generated, &custom, &limited, options](const Request& request) {
                // A request with the API key is the operator's (seeding a load test through a
                // shared balancer, a bulk import): the per-client creation limit is for everyone
                // else.
                const bool with_key =
                    !options.api_key.empty() && !service::require_api_key(request, options.api_key);
                if (!with_key) {
                  if (auto refused = check_rate(options.limiter, request.client_ip())) {
                    limited.Increment();
                    return std::move(*refused);
                  }
                }
                CreateLink create;
                if (auto error = decode_create(request, create)) return std::move(*error);
                const bool is_custom = create.slug.has_value();
                auto link = service.create(create);
                if (!link.ok()) return service::error_reply(link.error());
                (is_custom ? custom : generated).Increment();
                auto reply = service::json_reply(
                    201, to_json(link.value(), options.public_base_url, service.clock().now()));
                reply.with_header("Location", "/api/links/" + link.value().code);
                return reply;
              });

  router.get("/api/links", [&service, options](const Request& request) {
    if (auto denied = service::require_api_key(request, options.api_key)) return std::move(*denied);
    const auto limit =
        service::int_query(request, "limit", 20, 1, static_cast<long>(kMaxListLimit));
    if (limit.error) return *limit.error;
    ListQuery query;
    query.limit = static_cast<std::size_t>(*limit.value);
    query.cursor = request.query("cursor");
    const auto page = service.list(query);
    if (!page.ok()) return service::error_reply(page.error());
    nlohmann::json items = nlohmann::json::array();
    const auto now = service.clock().now();
    for (const auto& link : page.value().items) {
      items.push_back(to_json(link, options.public_base_url, now));
    }
    const auto& next = page.value().next_cursor;
    return service::json_reply(
        200, {{"items", std::move(items)},
              {"nextCursor", next ? nlohmann::json(*next) : nlohmann::json(nullptr)}});
  });

  router.get("/api/links/:code", [&service, options](const Request& request) {
    const auto link = service.get(request.param("code"));
    if (!link.ok()) return service::error_reply(link.error());
    return service::json_reply(
        200, to_json(link.value(), options.public_base_url, service.clock().now()));
  });

  router.del("/api/links/:code", [&service, &deleted, options](const Request& request) {
    if (auto denied = service::require_api_key(request, options.api_key)) return std::move(*denied);
    const auto removed = service.remove(request.param("code"));
    if (!removed.ok()) return service::error_reply(removed.error());
    deleted.Increment();
    return Reply::empty(204);
  });
}

}  // namespace kurz::links::http
