// kurz-web (stage 3): the single-page web UI and its static assets. No state, no Redis.
#include "kurz/platform/service_main.h"
#include "kurz/web/http/routes.h"

int main() {
  return kurz::platform::run_service(
      "web", [](auto&, auto& router) { kurz::web::http::add_routes(router); });
}
