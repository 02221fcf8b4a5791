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

TEST(RedisUrlTest, ParsesASentinelUrl) {
  auto url = parse_url("redis+sentinel://:pw@s1:26379,[::1]:26380,s3:5000/mymaster/3");
  ASSERT_TRUE(url.ok()) << url.error().message;
  ASSERT_EQ(url.value().sentinels.size(), 3u);
  EXPECT_EQ(url.value().sentinels[0].host, "s1");
  EXPECT_EQ(url.value().sentinels[0].port, 26379);
  EXPECT_EQ(url.value().sentinels[1].host, "::1");
  EXPECT_EQ(url.value().sentinels[2].port, 5000);
  EXPECT_EQ(url.value().master_name, "mymaster");
  EXPECT_EQ(url.value().db, 3);
  EXPECT_EQ(url.value().password, "pw");
  EXPECT_EQ(url.value().redacted(), "sentinel:mymaster@s1:26379,[::1]:26380,s3:5000/3");

  url = parse_url("redis+sentinel://sentinel-1:26379");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url.value().master_name, "kurz");
  EXPECT_EQ(url.value().db, 0);
  EXPECT_TRUE(parse_url("redis://h:1").value().sentinels.empty());
}

TEST(RedisUrlTest, RefusesABadSentinelUrl) {
  for (const char* bad :
       {"redis+sentinel://", "redis+sentinel://s1", "redis+sentinel://s1:26379,",
        "redis+sentinel://s1:26379,,s2:1", "redis+sentinel://s1:0", "redis+sentinel://s1:x/m",
        "redis+sentinel://s1:1/bad name", "redis+sentinel://s1:1/m/db",
        "redis+sentinel://s1:1/m/1/2", "redis+sentinel://u:p@s1:1", "redis+sentinel://s 1:1"}) {
    const auto url = parse_url(bad);
    EXPECT_FALSE(url.ok()) << bad;
    if (!url.ok()) {
      EXPECT_EQ(url.error().code, "invalid_redis_url");
    }
  }
}

TEST(RedisUrlTest, ParsesTheSentinelList) {
  const auto list = parse_sentinels("sentinel-1:26379,sentinel-2:26379,10.0.0.3:26380");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list.value().size(), 3u);
  EXPECT_EQ(list.value()[2].host, "10.0.0.3");
  EXPECT_EQ(list.value()[2].port, 26380);
  EXPECT_EQ(list.value()[0].to_string(), "sentinel-1:26379");
  std::string seventeen;
  for (int i = 0; i < 17; ++i) seventeen += (i ? ",h:" : "h:") + std::to_string(i + 1);
  for (const std::string& bad :
       {std::string(""), std::string(","), std::string("h"), std::string("h:"), std::string("h:1,"),
        std::string(",h:1"), std::string("h:1,,h:2"), std::string("h:99999"), std::string("h:-1"),
        std::string("h:1 "), std::string("redis://h:1"), std::string("[::1:1"),
        std::string("h:1;h:2"), seventeen}) {
    const auto parsed = parse_sentinels(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code, "invalid_redis_sentinels");
      EXPECT_NE(parsed.error().message.find("REDIS_SENTINELS"), std::string::npos);
    }
  }
}

TEST(RedisUrlTest, MasterNames) {
  EXPECT_TRUE(valid_master_name("kurz"));
  EXPECT_TRUE(valid_master_name("my-master_1.a"));
  EXPECT_FALSE(valid_master_name(""));
  EXPECT_FALSE(valid_master_name("a b"));
  EXPECT_FALSE(valid_master_name(std::string(65, 'a')));
}

}  // namespace
}  // namespace kurz::redis
