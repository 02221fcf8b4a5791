#include "kurz/monolith/monolith.h"

#include "kurz/links/http/routes.h"
#include "kurz/links/link_service.h"
#include "kurz/qr/http/routes.h"
#include "kurz/redirect/http/routes.h"
#include "kurz/redirect/redirector.h"
#include "kurz/stats/http/routes.h"
#include "kurz/stats/stats_service.h"
#include "kurz/web/http/routes.h"

namespace kurz::monolith {

struct Monolith::Services {
  Services(const Backend& backend, const common::Clock& clock)
      : links(backend.links, clock),
        redirector(backend.redirect_links, backend.clicks, clock),
        stats(backend.links, backend.stats) {}

  links::LinkService links;
  redirect::Redirector redirector;
  stats::StatsService stats;
};

Monolith::Monolith(const Settings& settings, const common::Clock& clock, platform::Metrics& metrics,
                   Backend backend)
    : settings_(settings),
      clock_(clock),
      metrics_(metrics),
      backend_(backend),
      services_(std::make_unique<Services>(backend_, clock)) {}

Monolith::~Monolith() = default;

void Monolith::add_routes(platform::Router& router) {
  links::http::add_routes(router, services_->links, metrics_,
                          {settings_.public_base_url, settings_.api_key, &backend_.limiter});
  stats::http::add_routes(router, services_->stats);
  qr::http::add_routes(router, backend_.redirect_links, clock_, metrics_,
                       settings_.public_base_url);
  web::http::add_routes(router);
  redirect::http::add_routes(router, services_->redirector, metrics_);
}

}  // namespace kurz::monolith
