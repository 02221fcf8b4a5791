#include <string>

#include "kurz/qr/qr_code.h"
#include "kurz/qr/render.h"

namespace kurz::qr {

common::Result<std::string> render_svg(std::string_view text, const SvgOptions& options) {
  if (options.scale < kMinScale || options.scale > kMaxScale) {
    return common::Error{common::ErrorKind::Invalid, "invalid_scale",
                         "the scale must be between 1 and 32 pixels per module"};
  }
  auto encoded = encode(text);
  if (!encoded.ok()) return encoded.error();
  const QrMatrix& m = encoded.value();
  const std::string units = std::to_string(m.size + 2 * kQuietZone);
  const std::string pixels = std::to_string((m.size + 2 * kQuietZone) * options.scale);

  std::string svg;
  svg.reserve(static_cast<std::size_t>(m.size) * static_cast<std::size_t>(m.size) * 3 + 300);
  svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 " + units + " " +
         units + "\" width=\"" + pixels + "\" height=\"" + pixels +
         "\" shape-rendering=\"crispEdges\">";
  svg += "<rect width=\"" + units + "\" height=\"" + units + "\" fill=\"#fff\"/>";
  svg += "<path fill=\"#000\" d=\"";
  // One subpath per horizontal run of dark modules: "M x y h len v 1 h -len z".
  for (int y = 0; y < m.size; ++y) {
    for (int x = 0; x < m.size;) {
      if (!m.dark(x, y)) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < m.size && m.dark(x + run, y)) ++run;
      const std::string len = std::to_string(run);
      svg += "M" + std::to_string(x + kQuietZone) + " " + std::to_string(y + kQuietZone) + "h" +
             len + "v1h-" + len + "z";
      x += run;
    }
  }
  svg += "\"/></svg>\n";
  return svg;
}

}  // namespace kurz::qr
