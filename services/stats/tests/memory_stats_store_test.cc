#include "kurz/stats/memory_stats_store.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace kurz::stats {
namespace {

using namespace std::chrono_literals;
using common::ClickEvent;
using common::TimePoint;

const TimePoint kDay0 = TimePoint{} + std::chrono::seconds(1795392000);  // 2026-11-23T00:00:00Z

ClickEvent click(std::string code, TimePoint at = kDay0, std::string referrer = "",
                 std::string agent = "") {
  return ClickEvent{at, std::move(code), std::move(referrer), std::move(agent)};
}

TEST(MemoryStatsStoreTest, UnknownCodeHasNoStats) {
  MemoryStatsStore store;
  EXPECT_FALSE(store.link_stats("abc", 10).value().has_value());
  EXPECT_TRUE(store.top_links(10).value().empty());
}

TEST(MemoryStatsStoreTest, AggregatesClicks) {
  MemoryStatsStore store;
  store.apply(click("abc", kDay0 + 1h, "https://a.example/x", "agent-1"));
  store.apply(click("abc", kDay0 + 2h, "https://A.example/y", "agent-1"));
  store.apply(click("abc", kDay0 + 25h, "", ""));
  store.record(click("abc", kDay0 - 1h, "junk", "agent-2"));  // via the ClickSink side
  store.apply(click("xyz"));

  const auto stats = store.link_stats("abc", 10).value();
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->code, "abc");
  EXPECT_EQ(stats->total, 4U);
  EXPECT_EQ(stats->days,
            (std::vector<DayCount>{{"2026-11-22", 1}, {"2026-11-23", 2}, {"2026-11-24", 1}}));
  EXPECT_EQ(stats->referrers,
            (std::vector<NamedCount>{{"a.example", 2}, {"direct", 1}, {"other", 1}}));
  EXPECT_EQ(stats->user_agents,
            (std::vector<NamedCount>{{"agent-1", 2}, {"agent-2", 1}, {"unknown", 1}}));
}

TEST(MemoryStatsStoreTest, TopNLimitsNamesOrderedByClicksThenName) {
  MemoryStatsStore store;
  for (int i = 0; i < 15; ++i) {
    for (int k = 0; k <= i % 3; ++k) {
      store.apply(click("abc", kDay0, "https://h" + std::to_string(10 + i) + ".example/"));
    }
  }
  const auto stats = store.link_stats("abc", 4).value();
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->referrers,
            (std::vector<NamedCount>{
                {"h12.example", 3}, {"h15.example", 3}, {"h18.example", 3}, {"h21.example", 3}}));
  EXPECT_TRUE(store.link_stats("abc", 0).value()->referrers.empty());
}

TEST(MemoryStatsStoreTest, BoundsDistinctNamesPerLink) {
  MemoryStatsStore store;
  for (std::size_t i = 0; i < kMaxNamesPerLink + 50; ++i) {
    store.apply(click("abc", kDay0, "https://h" + std::to_string(i) + ".example/",
                      "agent " + std::to_string(i)));
  }
  const auto stats = store.link_stats("abc", 1000).value();
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->total, kMaxNamesPerLink + 50);
  ASSERT_EQ(stats->referrers.size(), kMaxNamesPerLink + 1);
  EXPECT_EQ(stats->referrers.front(), (NamedCount{"other", 50}));
  ASSERT_EQ(stats->user_agents.size(), kMaxNamesPerLink + 1);
  EXPECT_EQ(stats->user_agents.front(), (NamedCount{"other", 50}));
}

TEST(MemoryStatsStoreTest, KeepsOnlyRecentDays) {
  MemoryStatsStore store;
  store.apply(click("abc", kDay0));
  store.apply(click("abc", kDay0 + 24h * 89));
  EXPECT_EQ(store.link_stats("abc", 10).value()->days.size(), 2U);
  store.apply(click("abc", kDay0 + 24h * 90));  // kDay0 falls out of the window
  store.apply(click("abc", kDay0 - 24h));       // too old to keep per day
  const auto stats = store.link_stats("abc", 10).value();
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->total, 4U);
  ASSERT_EQ(stats->days.size(), 2U);
  EXPECT_EQ(stats->days.front().date, "2027-02-20");
  EXPECT_EQ(stats->days.back().date, "2027-02-21");
}

TEST(MemoryStatsStoreTest, TopLinksMostClickedFirstTiesByCode) {
  MemoryStatsStore store;
  const std::vector<std::pair<std::string, int>> clicks = {
      {"ccc", 5}, {"aaa", 2}, {"bbb", 5}, {"ddd", 1}, {"eee", 7}};
  for (const auto& [code, n] : clicks) {
    for (int i = 0; i < n; ++i) store.apply(click(code));
  }
  EXPECT_EQ(store.top_links(3).value(), (std::vector<TopLink>{{"eee", 7}, {"bbb", 5}, {"ccc", 5}}));
  EXPECT_EQ(store.top_links(100).value().size(), 5U);
  EXPECT_TRUE(store.top_links(0).value().empty());
}

TEST(MemoryStatsStoreTest, ConcurrentClicksAreCountedExactly) {
  MemoryStatsStore store;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < kPerThread; ++i) {
        store.record(click(i % 2 == 0 ? "even" : "odd", kDay0 + std::chrono::minutes(i),
                           "https://r" + std::to_string(t) + ".example/", "agent"));
        if (i % 500 == 0) {
          (void)store.top_links(5).value();
          (void)store.link_stats("even", 10).value();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store.link_stats("even", 10).value()->total,
            static_cast<std::uint64_t>(kThreads * kPerThread / 2));
  EXPECT_EQ(store.link_stats("odd", 10).value()->total,
            static_cast<std::uint64_t>(kThreads * kPerThread / 2));
  std::uint64_t per_day = 0;
  const auto even = store.link_stats("even", 10).value();
  ASSERT_TRUE(even.has_value());
  for (const auto& day : even->days) per_day += day.clicks;
  EXPECT_EQ(per_day, static_cast<std::uint64_t>(kThreads * kPerThread / 2));
  EXPECT_EQ(store.link_stats("even", 10).value()->referrers.size(),
            static_cast<std::size_t>(kThreads));
}

}  // namespace
}  // namespace kurz::stats
