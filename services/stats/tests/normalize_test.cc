#include "kurz/stats/normalize.h"

#include <gtest/gtest.h>

#include <string>

#include "kurz/common/utf8.h"

namespace kurz::stats {
namespace {

TEST(NormalizeReferrerTest, EmptyIsDirect) { EXPECT_EQ(normalize_referrer(""), "direct"); }

TEST(NormalizeReferrerTest, KeepsOnlyTheLowerCasedHost) {
  EXPECT_EQ(normalize_referrer("https://News.Example.COM/item?id=1"), "news.example.com");
  EXPECT_EQ(normalize_referrer("http://user:pw@example.com:8080/path#x"), "example.com");
  EXPECT_EQ(normalize_referrer("https://example.com"), "example.com");
  EXPECT_EQ(normalize_referrer("https://example.com./"), "example.com");
  EXPECT_EQ(normalize_referrer("https://example.com?q"), "example.com");
  EXPECT_EQ(normalize_referrer("HTTPS://[2001:DB8::1]:443/x"), "[2001:db8::1]");
  EXPECT_EQ(normalize_referrer("android-app://com.Google.android.gm/"), "com.google.android.gm");
  EXPECT_EQ(normalize_referrer("https://b\xC3\xBC"
                               "cher.example/"),
            "b\xC3\xBC"
            "cher.example");
}

TEST(NormalizeReferrerTest, UnparsableIsOther) {
  for (const std::string& referrer : {
           std::string("not a url"),
           std::string("example.com/path"),
           std::string("//example.com"),
           std::string("https://"),
           std::string("https:///path"),
           std::string("https://:80/"),
           std::string("https://exa mple.com/"),
           std::string("https://exa<mple.com/"),
           std::string("https://[::1/"),
           std::string("https://[]/"),
           std::string("1x://host/"),
           std::string("https://\xFF\xFE/"),
           std::string("https://" + std::string(300, 'a')),
           std::string("https://a\0b/", 12),
       }) {
    EXPECT_EQ(normalize_referrer(referrer), "other") << referrer;
  }
}

TEST(NormalizeUserAgentTest, EmptyIsUnknown) { EXPECT_EQ(normalize_user_agent(""), "unknown"); }

TEST(NormalizeUserAgentTest, KeepsTheRawStringWithinBounds) {
  EXPECT_EQ(normalize_user_agent("Mozilla/5.0 (X11; Linux x86_64)"),
            "Mozilla/5.0 (X11; Linux x86_64)");
  const std::string long_agent = std::string(199, 'a') + "\xC3\xA9" + "tail";
  EXPECT_EQ(normalize_user_agent(long_agent), std::string(199, 'a'));
  EXPECT_EQ(normalize_user_agent(std::string(500, 'b')).size(), kMaxUserAgentName);
  EXPECT_TRUE(common::is_valid_utf8(normalize_user_agent("bad\xFF\xC3")));
}

}  // namespace
}  // namespace kurz::stats
