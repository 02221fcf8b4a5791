#include "kurz/redis/url.h"

#include <gtest/gtest.h>

namespace kurz::redis {
namespace {

TEST(RedisUrlTest, Parses) {
  auto url = parse_url("redis://cache.internal:6380/2");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url.value().host, "cache.internal");
  EXPECT_EQ(url.value().port, 6380);
  EXPECT_EQ(url.value().db, 2);
  EXPECT_TRUE(url.value().password.empty());

  url = parse_url("redis://:p%40ss@redis");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url.value().password, "p@ss");
  EXPECT_EQ(url.value().port, 6379);
  EXPECT_EQ(url.value().redacted(), "redis:6379/0");

  url = parse_url("redis://[::1]:7000");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url.value().host, "::1");
  EXPECT_EQ(url.value().port, 7000);
}

TEST(RedisUrlTest, RefusesWhatIsNotARedisUrl) {
  for (const char* bad :
       {"", "redis:/x", "http://redis:6379", "redis://", "redis://:pw@", "redis://user:pw@h",
        "redis://h:0", "redis://h:65536", "redis://h:port", "redis://h/db", "redis://h o",
        "redis://h/1/2", "redis://[::1", "redis://:%zz@h"}) {
    const auto url = parse_url(bad);
    EXPECT_FALSE(url.ok()) << bad;
    if (!url.ok()) {
      EXPECT_EQ(url.error().code, "invalid_redis_url");
    }
  }
}

}  // namespace
}  // namespace kurz::redis
