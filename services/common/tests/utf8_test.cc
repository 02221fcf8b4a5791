#include "kurz/common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace kurz::common {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(
      is_valid_utf8("Gr\xC3\xBC\xC3\x9F"
                    "e \xE2\x82\xAC \xF0\x9F\x98\x80"));
}

TEST(Utf8Test, RejectsMalformedText) {
  for (const char* text : {
           "\x80",              // lone continuation byte
           "\xC3",              // truncated
           "\xC0\xAF",          // overlong '/'
           "\xE0\x80\xAF",      // overlong
           "\xED\xA0\x80",      // surrogate
           "\xF4\x90\x80\x80",  // above U+10FFFF
           "\xFF",
           "ok\xE2\x82",  // truncated at the end
       }) {
    EXPECT_FALSE(is_valid_utf8(text)) << text;
  }
}

TEST(Utf8Test, PrefixNeverSplitsACharacter) {
  const std::string text = "ab\xE2\x82\xAC";  // "ab€": 5 bytes
  EXPECT_EQ(utf8_prefix(text, 10), text);
  EXPECT_EQ(utf8_prefix(text, 5), text);
  EXPECT_EQ(utf8_prefix(text, 4), "ab");
  EXPECT_EQ(utf8_prefix(text, 3), "ab");
  EXPECT_EQ(utf8_prefix(text, 2), "ab");
  EXPECT_EQ(utf8_prefix(text, 0), "");
}

TEST(Utf8Test, SanitizeReplacesInvalidBytesAndTruncates) {
  EXPECT_EQ(sanitize_utf8("fine", 100), "fine");
  EXPECT_EQ(sanitize_utf8("a\xFF"
                          "b",
                          100),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(sanitize_utf8("a\xC3", 100), "a\xEF\xBF\xBD");
  EXPECT_EQ(sanitize_utf8("ab\xE2\x82\xAC", 4), "ab");
  EXPECT_EQ(sanitize_utf8("abcdef", 3), "abc");
  EXPECT_TRUE(is_valid_utf8(sanitize_utf8("\xC0\xAF\xED\xA0\x80\x80", 100)));
}

}  // namespace
}  // namespace kurz::common
