#pragma once
// GET /api/stats/top and GET /api/stats/:code.

#include "kurz/platform/router.h"
#include "kurz/stats/stats_service.h"

namespace kurz::stats::http {

// Registers the routes; `service` must outlive the router.
void add_routes(platform::Router& router, const StatsService& service);

}  // namespace kurz::stats::http
