#pragma once
// GET /qr/:code.svg and GET /qr/:code.png?scale=N: the short URL of an existing link as a QR code.
// Like the redirect, an unknown code answers 404 and an expired link 410 (JSON errors: these are
// API answers, not pages).

#include <string>

#include "kurz/common/clock.h"
#include "kurz/links/link_store.h"
#include "kurz/platform/metrics.h"
#include "kurz/platform/router.h"

namespace kurz::qr::http {

// Registers the routes; `links`, `clock` and `metrics` must outlive the router.
void add_routes(platform::Router& router, const links::LinkReader& links,
                const common::Clock& clock, platform::Metrics& metrics,
                const std::string& public_base_url);

}  // namespace kurz::qr::http
