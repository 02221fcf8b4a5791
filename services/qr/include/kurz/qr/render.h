#pragma once

#include <string>
#include <string_view>

#include "kurz/common/error.h"

namespace kurz::qr {

inline constexpr int kMinScale = 1;
inline constexpr int kMaxScale = 32;

struct SvgOptions {
  // Pixels per module for the width/height attributes; the image scales freely anyway.
  int scale = 8;
};

struct PngOptions {
  int scale = 8;  // pixels per module, kMinScale..kMaxScale
};

// An SVG document for `text`: one white background rect and one <path> of the dark modules, with
// shape-rendering="crispEdges", a viewBox of (modules + 2 * kQuietZone) units and width/height of
// that many units times `scale` pixels. Errors: those of encode(), and Invalid "invalid_scale".
// Deterministic and thread-safe.
common::Result<std::string> render_svg(std::string_view text, const SvgOptions& options = {});

// A 1-bit greyscale PNG for `text`, (modules + 2 * kQuietZone) * scale pixels square. Errors:
// those of encode(), Invalid "invalid_scale", and Internal "png_failed" should libpng fail.
// Deterministic and thread-safe.
common::Result<std::string> render_png(std::string_view text, const PngOptions& options = {});

}  // namespace kurz::qr
