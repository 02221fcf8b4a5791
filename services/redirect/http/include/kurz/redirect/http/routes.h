#pragma once
// GET /:code: the hot path. 302 to the target, or a small HTML page for 404 and 410.

#include "kurz/platform/metrics.h"
#include "kurz/platform/router.h"
#include "kurz/redirect/redirector.h"

namespace kurz::redirect::http {

// Registers the route; `redirector` and `metrics` must outlive the router.
void add_routes(platform::Router& router, Redirector& redirector, platform::Metrics& metrics);

}  // namespace kurz::redirect::http
