#include "png_writer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kurz::qr::detail {
namespace {

// Run under ASan/LSan: these prove that a libpng error longjmps back cleanly, frees libpng's
// structures and leaks nothing.
const std::vector<unsigned char> kModules = {1, 0, 0, 1};  // a 2x2 checkerboard

TEST(PngWriterTest, WritesASmallImage) {
  auto png = write_png({kModules.data(), 2, 1, 2});
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(png.value().substr(1, 3), "PNG");
}

TEST(PngWriterTest, LibpngErrorFromInvalidHeaderIsAnErrorValue) {
  auto png = write_png({kModules.data(), 0, 0, 1});  // zero width: libpng rejects the IHDR
  ASSERT_FALSE(png.ok());
  EXPECT_EQ(png.error().kind, common::ErrorKind::Internal);
  EXPECT_EQ(png.error().code, "png_failed");
}

TEST(PngWriterTest, WriteFailureMidStreamIsAnErrorValue) {
  for (std::size_t limit : {std::size_t{0}, std::size_t{8}, std::size_t{40}}) {
    auto png = write_png({kModules.data(), 2, 4, 8}, limit);
    ASSERT_FALSE(png.ok()) << limit;
    EXPECT_EQ(png.error().code, "png_failed");
  }
  // And the writer still works afterwards (no state left behind).
  EXPECT_TRUE(write_png({kModules.data(), 2, 4, 8}).ok());
}

}  // namespace
}  // namespace kurz::qr::detail
