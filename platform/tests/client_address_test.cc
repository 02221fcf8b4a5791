#include "kurz/platform/client_address.h"

#include <gtest/gtest.h>

namespace kurz::platform {
namespace {

TEST(TrustedProxiesTest, ParsesRangesAndMatches) {
  const auto proxies =
      TrustedProxies::parse("10.0.0.0/8, 172.16.0.0/12,192.168.1.7, ::1, fd00::/8");
  ASSERT_TRUE(proxies);
  EXPECT_TRUE(proxies->contains("10.1.2.3"));
  EXPECT_TRUE(proxies->contains("172.31.255.255"));
  EXPECT_FALSE(proxies->contains("172.32.0.1"));
  EXPECT_TRUE(proxies->contains("192.168.1.7"));
  EXPECT_FALSE(proxies->contains("192.168.1.8"));
  EXPECT_TRUE(proxies->contains("::1"));
  EXPECT_TRUE(proxies->contains("fd12::5"));
  EXPECT_TRUE(proxies->contains("::ffff:10.0.0.1"));
  EXPECT_FALSE(proxies->contains("not an address"));
}

TEST(TrustedProxiesTest, RefusesMalformedLists) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "abc", "::1/129", "10.0.0.0/", "1.2.3.4/x"}) {
    EXPECT_FALSE(TrustedProxies::parse(bad)) << bad;
  }
  EXPECT_TRUE(TrustedProxies::parse("")->empty());
}

TEST(TrustedProxiesTest, ForwardedForCountsOnlyFromTrustedPeers) {
  const auto proxies = TrustedProxies::parse("10.0.0.0/8").value();
  // An untrusted peer cannot choose its address.
  EXPECT_EQ(proxies.client("203.0.113.9", std::string("1.1.1.1")), "203.0.113.9");
  // Through one trusted proxy.
  EXPECT_EQ(proxies.client("10.0.0.2", std::string("198.51.100.4")), "198.51.100.4");
  // The client forged a first hop; the proxy appended the real one.
  EXPECT_EQ(proxies.client("10.0.0.2", std::string("6.6.6.6, 198.51.100.4")), "198.51.100.4");
  // Two trusted proxies in a row.
  EXPECT_EQ(proxies.client("10.0.0.2", std::string("198.51.100.4, 10.9.9.9")), "198.51.100.4");
  // No header, or garbage in it.
  EXPECT_EQ(proxies.client("10.0.0.2", std::nullopt), "10.0.0.2");
  EXPECT_EQ(proxies.client("10.0.0.2", std::string("<script>")), "10.0.0.2");
}

}  // namespace
}  // namespace kurz::platform
