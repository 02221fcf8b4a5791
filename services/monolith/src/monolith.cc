#include "kurz/monolith/monolith.h"

#include "kurz/links/http/routes.h"
#include "kurz/links/link_service.h"
#include "kurz/links/memory_link_store.h"
#include "kurz/qr/http/routes.h"
#include "kurz/redirect/http/routes.h"
#include "kurz/redirect/redirector.h"
#include "kurz/stats/http/routes.h"
#include "kurz/stats/memory_stats_store.h"
#include "kurz/stats/stats_service.h"
#include "kurz/web/http/routes.h"

namespace kurz::monolith {

struct Monolith::Modules {
  explicit Modules(const common::Clock& clock)
      : links(link_store, clock),
        redirector(link_store, stats_store, clock),
        stats(link_store, stats_store) {}

  links::MemoryLinkStore link_store;
  stats::MemoryStatsStore stats_store;  // also the click sink: clicks count synchronously
  links::LinkService links;
  redirect::Redirector redirector;
  stats::StatsService stats;
};

Monolith::Monolith(const Settings& settings, const common::Clock& clock, platform::Metrics& metrics)
    : settings_(settings), metrics_(metrics), modules_(std::make_unique<Modules>(clock)) {}

Monolith::~Monolith() = default;

void Monolith::add_routes(platform::Router& router) {
  links::http::add_routes(router, modules_->links, metrics_,
                          {settings_.public_base_url, settings_.api_key});
  stats::http::add_routes(router, modules_->stats);
  qr::http::add_routes(router, modules_->link_store, metrics_, settings_.public_base_url);
  web::http::add_routes(router);
  redirect::http::add_routes(router, modules_->redirector, metrics_);
}

}  // namespace kurz::monolith
