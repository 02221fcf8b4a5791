#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kurz/common/error.h"

namespace kurz::qr::detail {

// A square bitmap of QR modules, described with plain pointers and integers: libpng reports
// errors by longjmp, so the code it jumps across must not own C++ objects.
struct PngRaster {
  const unsigned char* modules = nullptr;  // size * size, row-major, non-zero = dark
  int size = 0;                            // modules per side
  int margin = 0;                          // quiet zone, in modules
  int scale = 1;                           // pixels per module
};

// Encodes `raster` as a 1-bit greyscale PNG, (size + 2 * margin) * scale pixels square.
// `max_bytes` bounds the output; reaching it is a libpng write error (the hook that lets tests
// exercise the error path). Any libpng error gives Internal "png_failed" and frees everything.
common::Result<std::string> write_png(const PngRaster& raster, std::size_t max_bytes = SIZE_MAX);

}  // namespace kurz::qr::detail
