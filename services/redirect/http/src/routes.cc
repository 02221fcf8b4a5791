#include "kurz/redirect/http/routes.h"

#include "kurz/service/replies.h"

namespace kurz::redirect::http {

void add_routes(platform::Router& router, Redirector& redirector, platform::Metrics& metrics) {
  auto& results = prometheus::BuildCounter()
                      .Name("kurz_redirects_total")
                      .Help("Redirect requests, by result.")
                      .Register(metrics.registry());
  auto& found = results.Add({{"result", "found"}});
  auto& not_found = results.Add({{"result", "not_found"}});
  auto& gone = results.Add({{"result", "expired"}});

  router.get("/:code", [&redirector, &found, &not_found, &gone](const platform::Request& request) {
    const auto target =
        redirector.resolve(request.param("code"), request.header("Referer").value_or(""),
                           request.header("User-Agent").value_or(""));
    if (target.ok()) {
      found.Increment();
      auto reply = platform::Reply::redirect(target.value());
      // Every visit must reach us to be counted.
      reply.with_header("Cache-Control", "private, max-age=0");
      return reply;
    }
    switch (target.error().kind) {
      case common::ErrorKind::NotFound:
        not_found.Increment();
        return service::html_page(404, "Link not found", "There is no short link with this name.");
      case common::ErrorKind::Gone:
        gone.Increment();
        return service::html_page(410, "Link expired", "This short link has expired.");
      default:
        return service::error_reply(target.error());
    }
  });
}

}  // namespace kurz::redirect::http
