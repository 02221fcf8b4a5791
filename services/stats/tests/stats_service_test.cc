#include "kurz/stats/stats_service.h"

#include <gtest/gtest.h>

#include <string>

#include "kurz/links/memory_link_store.h"
#include "kurz/stats/memory_stats_store.h"

namespace kurz::stats {
namespace {

using common::ErrorKind;
using common::TimePoint;

class StatsServiceTest : public ::testing::Test {
 protected:
  void add_link(const std::string& code) {
    ASSERT_TRUE(links_.insert({code, "https://example.com/", TimePoint{}, std::nullopt}));
  }
  void clicks(const std::string& code, int n) {
    for (int i = 0; i < n; ++i) store_.record({TimePoint{}, code, "", ""});
  }
  links::MemoryLinkStore links_;
  MemoryStatsStore store_;
  StatsService service_{links_, store_};
};

TEST_F(StatsServiceTest, StatsOfAClickedLink) {
  add_link("abc");
  clicks("abc", 3);
  auto stats = service_.stats("abc");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats.value().total, 3U);
  EXPECT_EQ(stats.value().referrers, (std::vector<NamedCount>{{"direct", 3}}));
}

TEST_F(StatsServiceTest, LinkWithoutClicksHasZeroStats) {
  add_link("abc");
  auto stats = service_.stats("abc");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats.value().code, "abc");
  EXPECT_EQ(stats.value().total, 0U);
  EXPECT_TRUE(stats.value().days.empty());
  EXPECT_TRUE(stats.value().referrers.empty());
  EXPECT_TRUE(stats.value().user_agents.empty());
}

TEST_F(StatsServiceTest, MissingOrDeletedLinksAreNotFound) {
  clicks("gone", 2);
  for (const std::string& code : {std::string("gone"), std::string("x"), std::string(100, 'a')}) {
    auto stats = service_.stats(code);
    ASSERT_FALSE(stats.ok());
    EXPECT_EQ(stats.error().kind, ErrorKind::NotFound);
    EXPECT_EQ(stats.error().code, "not_found");
  }
}

TEST_F(StatsServiceTest, TopValidatesLimitAndSkipsDeletedLinks) {
  for (std::size_t bad : {std::size_t{0}, std::size_t{101}}) {
    auto top = service_.top(bad);
    ASSERT_FALSE(top.ok());
    EXPECT_EQ(top.error().code, "invalid_parameter");
  }
  add_link("aaa");
  add_link("bbb");
  add_link("ccc");
  clicks("aaa", 1);
  clicks("bbb", 3);
  clicks("ccc", 2);
  clicks("zzz", 9);  // deleted since
  auto top = service_.top(2);
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top.value(), (std::vector<TopLink>{{"bbb", 3}, {"ccc", 2}}));
}

}  // namespace
}  // namespace kurz::stats
