#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "kurz/qr/qr_code.h"
#include "kurz/qr/render.h"

namespace kurz::qr {
namespace {

const std::string kText = "https://kurz.example/aZ3x9Qk";
const std::string kSignature("\x89PNG\r\n\x1a\n", 8);

std::uint32_t be32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}

TEST(RenderPngTest, HasSignatureAndTheRightSize) {
  const int modules = encode(kText).value().size + 2 * kQuietZone;
  for (int scale : {1, 8, 32}) {
    auto png = render_png(kText, {scale});
    ASSERT_TRUE(png.ok()) << png.error().message;
    const std::string& data = png.value();
    ASSERT_GT(data.size(), 33U);
    EXPECT_EQ(data.substr(0, 8), kSignature);
    EXPECT_EQ(data.substr(12, 4), "IHDR");
    EXPECT_EQ(be32(data, 16), static_cast<std::uint32_t>(modules * scale));  // width
    EXPECT_EQ(be32(data, 20), static_cast<std::uint32_t>(modules * scale));  // height
    EXPECT_EQ(data[24], 1);                                                  // bit depth
    EXPECT_EQ(data[25], 0);                                                  // greyscale
    EXPECT_EQ(data.substr(data.size() - 8, 4), "IEND");
  }
}

TEST(RenderPngTest, IsDeterministic) {
  EXPECT_EQ(render_png(kText).value(), render_png(kText).value());
}

TEST(RenderPngTest, LargestSymbolAtLargestScale) {
  auto png = render_png(std::string(kMaxTextBytes, 'x'), {kMaxScale});
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(be32(png.value(), 16), static_cast<std::uint32_t>((177 + 8) * kMaxScale));
}

TEST(RenderPngTest, RejectsBadInput) {
  EXPECT_EQ(render_png(kText, {0}).error().code, "invalid_scale");
  EXPECT_EQ(render_png(kText, {33}).error().code, "invalid_scale");
  EXPECT_EQ(render_png(kText, {-5}).error().code, "invalid_scale");
  EXPECT_EQ(render_png(std::string(kMaxTextBytes + 1, 'x')).error().code, "qr_text_too_long");
  EXPECT_EQ(render_png("").error().code, "qr_text_empty");
}

}  // namespace
}  // namespace kurz::qr
