#pragma once
// GET / and GET /static/:file: the embedded web UI, with ETags, revalidation and a strict CSP.

#include "kurz/platform/router.h"

namespace kurz::web::http {

void add_routes(platform::Router& router);

}  // namespace kurz::web::http
