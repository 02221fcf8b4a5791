#include "png_writer.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <vector>

namespace kurz::qr::detail {
namespace {

struct WriteContext {
  std::string* out;
  std::size_t max_bytes;
  char error[160];
};

// libpng callbacks. They may end in png_error/png_longjmp, which unwinds by longjmp: no C++
// object may be alive in these frames at that point, and no exception may cross libpng's C code.
void on_write(png_structp png, png_bytep data, png_size_t length) {
  auto* ctx = static_cast<WriteContext*>(png_get_io_ptr(png));
  bool ok = ctx->out->size() + length <= ctx->max_bytes;
  if (ok) {
    try {
      ctx->out->append(reinterpret_cast<const char*>(data), length);
    } catch (...) {
      ok = false;
    }
  }
  if (!ok) png_error(png, "output limit reached");
}

void on_flush(png_structp) {}

[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  auto* ctx = static_cast<WriteContext*>(png_get_error_ptr(png));
  std::snprintf(ctx->error, sizeof ctx->error, "%s", message);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

// Every libpng call that can fail happens below this frame's setjmp, so a failure returns here
// with false. Nothing in this frame has a destructor, and nothing is modified between setjmp
// and a possible longjmp that is read afterwards; the caller owns and frees all resources.
bool write_image(png_structp png, png_infop info, const PngRaster& r, png_bytep row) {
  if (setjmp(png_jmpbuf(png))) return false;
  const int modules = r.size + 2 * r.margin;
  const int pixels = modules * r.scale;
  const auto side = static_cast<png_uint_32>(pixels < 0 ? 0 : pixels);
  png_set_IHDR(png, info, side, side, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int py = 0; py < pixels; ++py) {
    const int my = py / r.scale - r.margin;
    const std::size_t row_bytes = (static_cast<std::size_t>(pixels) + 7) / 8;
    for (std::size_t i = 0; i < row_bytes; ++i) row[i] = 0xFF;  // white (1 = white in greyscale)
    if (my >= 0 && my < r.size) {
      for (int px = 0; px < pixels; ++px) {
        const int mx = px / r.scale - r.margin;
        if (mx < 0 || mx >= r.size) continue;
        if (r.modules[static_cast<std::size_t>(my) * static_cast<std::size_t>(r.size) +
                      static_cast<std::size_t>(mx)] != 0) {
          const auto bit = static_cast<std::size_t>(px);
          row[bit / 8] = static_cast<png_byte>(row[bit / 8] & ~(0x80u >> (bit % 8)));
        }
      }
    }
    png_write_row(png, row);
  }
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

common::Result<std::string> write_png(const PngRaster& raster, std::size_t max_bytes) {
  const common::Error failed{common::ErrorKind::Internal, "png_failed",
                             "the PNG image could not be generated"};
  const long long pixels = static_cast<long long>(raster.size + 2 * raster.margin) * raster.scale;
  std::string out;
  std::vector<png_byte> row(static_cast<std::size_t>(pixels > 0 ? (pixels + 7) / 8 : 1));
  WriteContext ctx{&out, max_bytes, {}};

  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
  if (png == nullptr) return failed;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    return failed;
  }
  png_set_write_fn(png, &ctx, on_write, on_flush);
  const bool ok = write_image(png, info, raster, row.data());
  png_destroy_write_struct(&png, &info);
  if (!ok) return failed;
  return out;
}

}  // namespace kurz::qr::detail
