#include <vector>

#include "kurz/qr/qr_code.h"
#include "kurz/qr/render.h"
#include "png_writer.h"

namespace kurz::qr {

common::Result<std::string> render_png(std::string_view text, const PngOptions& options) {
  if (options.scale < kMinScale || options.scale > kMaxScale) {
    return common::Error{common::ErrorKind::Invalid, "invalid_scale",
                         "the scale must be between 1 and 32 pixels per module"};
  }
  auto encoded = encode(text);
  if (!encoded.ok()) return encoded.error();
  const QrMatrix& matrix = encoded.value();
  const std::vector<unsigned char> modules(matrix.modules.begin(), matrix.modules.end());
  return detail::write_png({modules.data(), matrix.size, kQuietZone, options.scale});
}

}  // namespace kurz::qr
