#include <gtest/gtest.h>

#include <string>

#include "kurz/qr/qr_code.h"
#include "kurz/qr/render.h"

namespace kurz::qr {
namespace {

const std::string kText = "https://kurz.example/aZ3x9Qk";

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

TEST(RenderSvgTest, ProducesACompactWellFormedDocument) {
  auto svg = render_svg(kText, {});
  ASSERT_TRUE(svg.ok());
  const std::string& doc = svg.value();
  const int units = encode(kText).value().size + 2 * kQuietZone;
  const std::string u = std::to_string(units);
  const std::string px = std::to_string(units * 8);
  EXPECT_EQ(doc.rfind("<?xml", 0), 0U);
  EXPECT_NE(doc.find("viewBox=\"0 0 " + u + " " + u + "\""), std::string::npos);
  EXPECT_NE(doc.find("width=\"" + px + "\" height=\"" + px + "\""), std::string::npos);
  EXPECT_NE(doc.find("shape-rendering=\"crispEdges\""), std::string::npos);
  EXPECT_EQ(count(doc, "<svg"), 1U);
  EXPECT_EQ(count(doc, "</svg>"), 1U);
  EXPECT_EQ(count(doc, "<path"), 1U);
  EXPECT_EQ(count(doc, "<"), count(doc, ">"));
  EXPECT_EQ(count(doc, "\"") % 2, 0U);
  // The first dark run is the top-left finder pattern's top edge, inside the quiet zone.
  EXPECT_NE(doc.find("d=\"M4 4h7v1h-7z"), std::string::npos);
}

TEST(RenderSvgTest, ScaleChangesOnlyTheSize) {
  auto small = render_svg(kText, {1});
  auto large = render_svg(kText, {32});
  ASSERT_TRUE(small.ok());
  ASSERT_TRUE(large.ok());
  const std::string u = std::to_string(encode(kText).value().size + 2 * kQuietZone);
  EXPECT_NE(small.value().find("width=\"" + u + "\""), std::string::npos);
  EXPECT_EQ(small.value().substr(small.value().find("<path")),
            large.value().substr(large.value().find("<path")));
}

TEST(RenderSvgTest, IsDeterministic) {
  EXPECT_EQ(render_svg(kText).value(), render_svg(kText).value());
}

TEST(RenderSvgTest, RejectsBadInput) {
  EXPECT_EQ(render_svg(kText, {0}).error().code, "invalid_scale");
  EXPECT_EQ(render_svg(kText, {33}).error().code, "invalid_scale");
  EXPECT_EQ(render_svg(std::string(3000, 'x')).error().code, "qr_text_too_long");
}

}  // namespace
}  // namespace kurz::qr
