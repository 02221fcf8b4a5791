#include "kurz/qr/http/routes.h"

#include "kurz/qr/render.h"
#include "kurz/service/replies.h"

namespace kurz::qr::http {
namespace {

using platform::Reply;

Reply image(common::Result<std::string> rendered, const char* content_type) {
  if (!rendered.ok()) return service::error_reply(rendered.error());
  auto reply = Reply::bytes(200, content_type, std::move(rendered).value());
  // A code's short URL never changes, so neither does its picture.
  reply.with_header("Cache-Control", "public, max-age=86400");
  return reply;
}

}  // namespace

void add_routes(platform::Router& router, const links::LinkReader& links,
                const common::Clock& clock, platform::Metrics& metrics,
                const std::string& public_base_url) {
  auto& rendered = prometheus::BuildCounter()
                       .Name("kurz_qr_rendered_total")
                       .Help("QR codes rendered, by format.")
                       .Register(metrics.registry());
  auto& svg = rendered.Add({{"format", "svg"}});
  auto& png = rendered.Add({{"format", "png"}});
  // The reply when `code` has no picture (404 unknown, 410 expired, 503 store down), else nullopt.
  const auto refuse = [&links, &clock](const std::string& code) -> std::optional<Reply> {
    const auto link = links.find(code);
    if (!link.ok()) return service::error_reply(link.error());
    if (!link.value())
      return Reply::error(404, "not_found", "there is no short link with this code");
    if (link.value()->expired_at(clock.now())) {
      return Reply::error(410, "gone", "this short link has expired");
    }
    return std::nullopt;
  };

  router.get("/qr/:code.svg", [&svg, public_base_url, refuse](const platform::Request& request) {
    const auto& code = request.param("code");
    if (auto refused = refuse(code)) return std::move(*refused);
    svg.Increment();
    return image(render_svg(public_base_url + "/" + code), "image/svg+xml");
  });

  router.get("/qr/:code.png", [&png, public_base_url, refuse](const platform::Request& request) {
    const auto scale = service::int_query(request, "scale", 8, kMinScale, kMaxScale);
    if (scale.error) return *scale.error;
    const auto& code = request.param("code");
    if (auto refused = refuse(code)) return std::move(*refused);
    png.Increment();
    PngOptions options;
    options.scale = static_cast<int>(*scale.value);
    return image(render_png(public_base_url + "/" + code, options), "image/png");
  });
}

}  // namespace kurz::qr::http
