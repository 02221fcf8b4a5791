#include "kurz/qr/qr_code.h"

#include <gtest/gtest.h>

#include <string>

namespace kurz::qr {
namespace {

TEST(EncodeTest, ShortUrlGivesASmallSymbol) {
  auto matrix = encode("https://kurz.example/aZ3x9Qk");
  ASSERT_TRUE(matrix.ok());
  EXPECT_GE(matrix.value().version, 1);
  EXPECT_LE(matrix.value().version, 3);
  EXPECT_EQ(matrix.value().size, 17 + 4 * matrix.value().version);
  EXPECT_EQ(matrix.value().modules.size(),
            static_cast<std::size_t>(matrix.value().size * matrix.value().size));
  // Finder patterns: the top-left 7x7 square has a dark border and a light ring inside it.
  EXPECT_TRUE(matrix.value().dark(0, 0));
  EXPECT_TRUE(matrix.value().dark(6, 6));
  EXPECT_FALSE(matrix.value().dark(1, 1));
  EXPECT_TRUE(matrix.value().dark(3, 3));
}

TEST(EncodeTest, IsDeterministicAndHandlesAnyBytes) {
  const std::string text("a\0b\xFF", 4);
  auto a = encode(text);
  auto b = encode(text);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a.value().modules, b.value().modules);
}

TEST(EncodeTest, LongestTextFitsVersion40) {
  auto matrix = encode(std::string(kMaxTextBytes, 'x'));
  ASSERT_TRUE(matrix.ok());
  EXPECT_EQ(matrix.value().version, 40);
  EXPECT_EQ(matrix.value().size, 177);
}

TEST(EncodeTest, RejectsEmptyAndTooLongText) {
  auto empty = encode("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().kind, common::ErrorKind::Invalid);
  EXPECT_EQ(empty.error().code, "qr_text_empty");
  for (std::size_t n : {kMaxTextBytes + 1, std::size_t{100000}}) {
    auto long_text = encode(std::string(n, 'x'));
    ASSERT_FALSE(long_text.ok());
    EXPECT_EQ(long_text.error().kind, common::ErrorKind::Invalid);
    EXPECT_EQ(long_text.error().code, "qr_text_too_long");
  }
}

}  // namespace
}  // namespace kurz::qr
