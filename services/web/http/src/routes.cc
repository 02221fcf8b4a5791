#include "kurz/web/http/routes.h"

#include "kurz/service/replies.h"
#include "kurz/web/assets.h"

namespace kurz::web::http {
namespace {

using platform::Reply;

// The client's cached copy is current when any of its If-None-Match tags is ours.
bool matches(const std::optional<std::string>& if_none_match, std::string_view etag) {
  if (!if_none_match) return false;
  if (*if_none_match == "*") return true;
  return if_none_match->find(etag) != std::string::npos;
}

Reply serve(const Asset& asset, const platform::Request& request) {
  Reply reply = matches(request.header("If-None-Match"), asset.etag)
                    ? Reply::empty(304)
                    : Reply::bytes(200, std::string(asset.content_type), std::string(asset.body));
  reply.with_header("ETag", std::string(asset.etag));
  reply.with_header("Cache-Control",
                    asset.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  service::add_page_headers(reply);
  return reply;
}

}  // namespace

void add_routes(platform::Router& router) {
  router.get("/", [](const platform::Request& request) {
    return serve(*find_asset("/index.html"), request);
  });
  // The page under its file name too: every edge routes /index.html here (issue 20).
  router.get("/index.html", [](const platform::Request& request) {
    return serve(*find_asset("/index.html"), request);
  });
  router.get("/static/:file", [](const platform::Request& request) {
    const Asset* asset = find_asset("/static/" + request.param("file"));
    if (asset == nullptr) return Reply::error(404, "not_found", "no such file");
    return serve(*asset, request);
  });
}

}  // namespace kurz::web::http
