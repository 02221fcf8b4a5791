#pragma once
// The links REST API: POST/GET /api/links, GET/DELETE /api/links/:code.

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "kurz/links/cached_link_reader.h"
#include "kurz/links/link_service.h"
#include "kurz/links/rate_limiter.h"
#include "kurz/platform/config.h"
#include "kurz/platform/metrics.h"
#include "kurz/platform/router.h"

namespace kurz::links::http {

struct Options {
  std::string public_base_url;     // short URLs are <public_base_url>/<code>
  std::string api_key;             // when set, listing and deleting require it
  RateLimiter* limiter = nullptr;  // creations per client; nullptr: unlimited
};

// Registers the routes; `service` and `metrics` must outlive the router.
void add_routes(platform::Router& router, LinkService& service, platform::Metrics& metrics,
                const Options& options);

// RATE_LIMIT_CREATES (default 60; 0: unlimited) per client per RATE_LIMIT_WINDOW_MS (60000).
RateLimit read_rate_limit(platform::EnvReader& env);

// kurz_link_cache_{hits,misses,stale_served}_total for a service's link cache.
void add_cache_metrics(platform::Metrics& metrics, const CachedLinkReader& cache);

// {"code","url","shortUrl","createdAt","expiresAt","expired"} as the API returns a link;
// "expired" is true from `expiresAt` on (measured at `now`), when the short URL answers 410.
nlohmann::json to_json(const Link& link, const std::string& public_base_url, common::TimePoint now);

}  // namespace kurz::links::http
