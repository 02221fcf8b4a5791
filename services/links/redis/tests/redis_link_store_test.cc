// The Redis link store against a real redis-server, with two clients standing in for two
// instances of a service.
#include "kurz/links/redis/redis_link_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "redis_client_options.h"
#include "redis_server.h"

namespace kurz::links::redis {
namespace {

using namespace std::chrono_literals;

Link make_link(std::string code, std::optional<common::TimePoint> expires = std::nullopt) {
  return Link{std::move(code), "https://example.com/x?y=z",
              common::TimePoint(std::chrono::milliseconds(1'790'000'000'123)), expires};
}

class RedisLinkStoreTest : public ::testing::Test {
 protected:
  testing::RedisServer server_;
  kurz::redis::Client client_a_{testing::client_options(server_)};
  kurz::redis::Client client_b_{testing::client_options(server_)};
  RedisLinkStore a_{client_a_};
  RedisLinkStore b_{client_b_};
};

TEST_F(RedisLinkStoreTest, InsertFindRemoveAcrossInstances) {
  const auto expires = common::TimePoint(std::chrono::milliseconds(1'900'000'000'000));
  ASSERT_TRUE(a_.insert(make_link("abc", expires)).value());
  const auto found = b_.find("abc").value();
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, make_link("abc", expires));
  EXPECT_FALSE(b_.find("abd").value());
  EXPECT_TRUE(b_.remove("abc").value());
  EXPECT_FALSE(a_.remove("abc").value());
  EXPECT_FALSE(a_.find("abc").value());
  EXPECT_TRUE(a_.insert(make_link("abc")).value());  // free again
}

TEST_F(RedisLinkStoreTest, OnlyOneInstanceWinsASlug) {
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto& store = t % 2 == 0 ? a_ : b_;
      for (int i = 0; i < 50; ++i) {
        if (store.insert(make_link("race" + std::to_string(i))).value()) ++wins;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wins.load(), 50);
}

TEST_F(RedisLinkStoreTest, IdsAreUniqueAcrossInstances) {
  std::set<std::uint64_t> ids;
  std::mutex mutex;
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        const auto id = (t % 2 == 0 ? a_ : b_).next_id().value();
        std::lock_guard lock(mutex);
        ids.insert(id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ids.size(), 1000u);
}

TEST_F(RedisLinkStoreTest, ListsNewestFirstAndWalksEveryPageOnce) {
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(a_.insert(make_link("l" + std::to_string(i))).value());
  ASSERT_TRUE(a_.remove("l3").value());
  std::vector<std::string> seen;
  ListQuery query{std::nullopt, 2};
  for (int page = 0; page < 10; ++page) {
    const auto result = b_.list(query).value();
    for (const auto& link : result.items) seen.push_back(link.code);
    if (!result.next_cursor) break;
    query.cursor = result.next_cursor;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"l6", "l5", "l4", "l2", "l1", "l0"}));
}

TEST_F(RedisLinkStoreTest, MalformedCursorIsInvalid) {
  for (const char* cursor : {"", "abc", "-1", "0", "1e5", "9999999999999999999999"}) {
    const auto result = a_.list({std::string(cursor), 5});
    ASSERT_FALSE(result.ok()) << cursor;
    EXPECT_EQ(result.error().code, "invalid_cursor");
  }
}

TEST_F(RedisLinkStoreTest, RedisAwayIsUnavailableAndRecovers) {
  ASSERT_TRUE(a_.insert(make_link("keep")).value());
  server_.stop();
  for (const auto& error : {a_.find("keep").error(), a_.insert(make_link("x")).error(),
                            a_.list({std::nullopt, 5}).error(), a_.next_id().error()}) {
    EXPECT_EQ(error.kind, common::ErrorKind::Unavailable);
  }
  server_.start();  // a fresh, empty Redis: the point is that the client finds it again
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!a_.find("keep").ok()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace
}  // namespace kurz::links::redis

#include "kurz/links/redis/redis_rate_limiter.h"

namespace kurz::links::redis {
namespace {

TEST_F(RedisLinkStoreTest, RateLimitHoldsAcrossInstances) {
  common::ManualClock clock{common::TimePoint(std::chrono::hours(500000))};
  RedisRateLimiter first(client_a_, {5, 60s}, clock);
  RedisRateLimiter second(client_b_, {5, 60s}, clock);
  int allowed = 0;
  for (int i = 0; i < 10; ++i) {
    allowed += (i % 2 == 0 ? first : second).hit("203.0.113.7").value().allowed ? 1 : 0;
  }
  EXPECT_EQ(allowed, 5);
  EXPECT_TRUE(first.hit("203.0.113.8").value().allowed);
  const auto refused = second.hit("203.0.113.7").value();
  EXPECT_FALSE(refused.allowed);
  clock.advance(refused.retry_after);
  EXPECT_TRUE(first.hit("203.0.113.7").value().allowed);
}

}  // namespace
}  // namespace kurz::links::redis
