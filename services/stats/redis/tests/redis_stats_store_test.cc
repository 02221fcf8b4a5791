// RedisStatsStore against a real redis-server: the same answers as MemoryStatsStore, the same
// bounds, and failures as values.
#include "kurz/stats/redis/redis_stats_store.h"

#include <gtest/gtest.h>

#include <random>

#include "fixture.h"
#include "kurz/stats/memory_stats_store.h"
#include "kurz/stats/redis/click_apply.h"

namespace kurz::stats::redis {
namespace {

using namespace test;

TEST(RedisStatsStoreTest, UnknownCodeHasNoStats) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  RedisStatsStore store(client);
  const auto stats = store.link_stats("nothing", 10);
  ASSERT_TRUE(stats.ok());
  EXPECT_FALSE(stats.value().has_value());
  EXPECT_TRUE(store.top_links(10).value().empty());
}

TEST(RedisStatsStoreTest, CountsTotalDaysReferrersAndUserAgents) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  RedisStatsStore store(client);
  ASSERT_TRUE(store.apply(click("abc", 0, "https://News.example/a?b", "curl/8")).ok());
  ASSERT_TRUE(store.apply(click("abc", 1, "", "curl/8")).ok());
  ASSERT_TRUE(store.apply(click("abc", 1, "http://news.example", "")).ok());
  const auto stats = store.link_stats("abc", 10).value().value();
  EXPECT_EQ(stats.total, 3u);
  EXPECT_EQ(stats.days, (std::vector<DayCount>{{"2026-11-23", 1}, {"2026-11-24", 2}}));
  EXPECT_EQ(stats.referrers, (std::vector<NamedCount>{{"news.example", 2}, {"direct", 1}}));
  EXPECT_EQ(stats.user_agents, (std::vector<NamedCount>{{"curl/8", 2}, {"unknown", 1}}));
}

TEST(RedisStatsStoreTest, KeepsNinetyDaysAndBoundedNames) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  RedisStatsStore store(client);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(store.apply(click("abc", i, "https://r" + std::to_string(i) + ".example/")).ok());
  }
  const auto stats = store.link_stats("abc", 1000).value().value();
  EXPECT_EQ(stats.total, 300u);
  ASSERT_EQ(stats.days.size(), 90u);
  EXPECT_EQ(stats.days.back().date, "2027-09-18");  // day 299
  EXPECT_EQ(stats.referrers.size(), kMaxNamesPerLink + 1);
  EXPECT_EQ(stats.referrers.front(), (NamedCount{"other", 300 - kMaxNamesPerLink}));
}

TEST(RedisStatsStoreTest, TopLinksBreakTiesByCode) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  RedisStatsStore store(client);
  for (const char* code : {"ccc", "bbb", "aaa", "ddd", "ddd", "eee", "eee", "eee"}) {
    ASSERT_TRUE(store.apply(click(code)).ok());
  }
  EXPECT_EQ(store.top_links(3).value(), (std::vector<TopLink>{{"eee", 3}, {"ddd", 2}, {"aaa", 1}}));
  EXPECT_EQ(store.top_links(10).value().size(), 5u);
}

// Batches of the apply script tally per link, day and name before writing: the result must be
// that of counting one click at a time, bounds included (see MemoryStatsStore).
TEST(RedisStatsStoreTest, BatchedApplyAnswersLikeTheMemoryStore) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  RedisStatsStore redis_store(client);
  MemoryStatsStore memory_store;
  std::mt19937 random(42);
  std::vector<StreamEntry> batch;
  std::vector<common::ClickEvent> events;
  for (int i = 0; i < 6000; ++i) {
    const auto event =
        click("c" + std::to_string(random() % 5 + 100), static_cast<int>(random() % 200) - 100,
              "https://h" + std::to_string(random() % 400) + ".example/",
              "ua" + std::to_string(random() % 5));
    ASSERT_TRUE(memory_store.apply(event).ok());
    events.push_back(event);
    if (events.size() == 100) {  // one entry per 100 clicks, aggregated as the producer does
      batch.push_back(entry_of(events));
      events.clear();
    }
    if (batch.size() == 5) {
      ASSERT_EQ(ack_and_apply(client, "", batch).value(), 500u);  // "": no group, no XACK
      batch.clear();
    }
  }
  for (int code = 100; code < 105; ++code) {
    const std::string name = "c" + std::to_string(code);
    const auto expected = memory_store.link_stats(name, 300).value().value();
    const auto actual = redis_store.link_stats(name, 300).value().value();
    EXPECT_EQ(actual.total, expected.total);
    EXPECT_EQ(actual.days, expected.days);
    EXPECT_EQ(actual.user_agents, expected.user_agents);
    EXPECT_EQ(actual.referrers.size(), kMaxNamesPerLink + 1);  // over the bound: "other" too
    EXPECT_EQ(actual.referrers, expected.referrers);
  }
  EXPECT_EQ(redis_store.top_links(3).value(), memory_store.top_links(3).value());
}

TEST(RedisStatsStoreTest, RedisAwayIsUnavailable) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  RedisStatsStore store(client);
  server.stop();
  EXPECT_EQ(store.apply(click("abc")).error().kind, common::ErrorKind::Unavailable);
  EXPECT_EQ(store.link_stats("abc", 10).error().kind, common::ErrorKind::Unavailable);
  EXPECT_EQ(store.top_links(10).error().kind, common::ErrorKind::Unavailable);
}

}  // namespace
}  // namespace kurz::stats::redis
