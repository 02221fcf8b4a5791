// The click stream end to end against a real redis-server: ClickBuffer → RedisClickPublisher →
// kurz:clicks → ClickConsumer → RedisStatsStore, counted exactly once, whatever the consumers do.
#include <gtest/gtest.h>

#include "fixture.h"
#include "kurz/redirect/click_buffer.h"
#include "kurz/redirect/redis/click_publisher.h"
#include "kurz/stats/memory_stats_store.h"
#include "kurz/stats/redis/click_apply.h"
#include "kurz/stats/redis/click_consumer.h"
#include "kurz/stats/redis/keys.h"
#include "kurz/stats/redis/redis_stats_store.h"
#include "kurz/stats/redis/stream_admin.h"

namespace kurz::stats::redis {
namespace {

using namespace test;
using redirect::redis::RedisClickPublisher;

ConsumerOptions consumer_named(std::string name) {
  ConsumerOptions options;
  options.consumer = std::move(name);
  options.block = 100ms;
  options.lag_interval = 50ms;
  return options;
}

std::uint64_t all_clicks(kurz::redis::Client& client) {
  std::uint64_t sum = 0;
  const auto top = client.command({"ZRANGE", std::string(kTopKey), "0", "-1", "WITHSCORES"});
  if (!top.ok()) return 0;
  for (std::size_t i = 1; i < top.value().elements.size(); i += 2) {
    sum += std::stoull(top.value().elements[i].str);
  }
  return sum;
}

long long stream_length(kurz::redis::Client& client) {
  return client.command({"XLEN", std::string(kClickStream)}).value().integer;
}

// Appends `n` clicks on link0..link9 straight through the publisher, in batches of 100.
void publish(kurz::redis::Client& client, int n) {
  RedisClickPublisher publisher(client, "test");
  std::vector<common::ClickEvent> batch;
  std::uint64_t sequence = 0;
  for (int i = 0; i < n; ++i) {
    batch.push_back(click("link" + std::to_string(i % 10), i % 3, "", "ua"));
    if (batch.size() == 100 || i == n - 1) {
      ASSERT_TRUE(publisher.publish(++sequence, batch).ok());
      batch.clear();
    }
  }
}

TEST(ClickStreamTest, TenThousandClicksEndToEndCountedExactly) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  RedisClickPublisher publisher(client, "redirect-1");
  MemoryStatsStore expected;
  {
    redirect::ClickBuffer buffer(publisher, {});
    for (int i = 0; i < 10000; ++i) {
      // Each link gets 1000 clicks from 300 referrers: more names than the bound.
      auto event = click("link" + std::to_string(i % 10), i % 5,
                         "https://r" + std::to_string(i % 3000) + ".example/x",
                         i % 2 ? "Mozilla/5.0" : "curl/8.0");
      ASSERT_TRUE(expected.apply(event).ok());
      buffer.record(std::move(event));
    }
    ASSERT_TRUE(buffer.flush(10s));
    EXPECT_EQ(buffer.published(), 10000u);
    EXPECT_EQ(buffer.dropped(), 0u);
  }
  EXPECT_EQ(stream_length(client), 10000);

  ClickConsumer consumer(options_for(server), consumer_named("stats-1"));
  consumer.start();
  ASSERT_TRUE(wait_until([&] { return consumer.counters().applied == 10000; }, 10s));
  ASSERT_TRUE(wait_until([&] { return consumer.counters().lag == 0; }, 5s));
  RedisStatsStore store(client);
  EXPECT_EQ(all_clicks(client), 10000u);
  for (int code = 0; code < 10; ++code) {
    const std::string name = "link" + std::to_string(code);
    const auto want = expected.link_stats(name, 300).value().value();
    const auto got = store.link_stats(name, 300).value().value();
    EXPECT_EQ(got.total, 1000u);
    EXPECT_EQ(got.days, want.days);
    EXPECT_EQ(got.referrers, want.referrers);
    EXPECT_EQ(got.user_agents, want.user_agents);
  }
  const auto link0 = store.link_stats("link0", 1000).value().value();
  EXPECT_EQ(link0.referrers.size(), kMaxNamesPerLink + 1);  // the first 256 names, and "other"
  // Names r0..r990 get 4 clicks, the others 3; the first 256 names admitted hold 100 * 4 + 156 * 3.
  EXPECT_EQ(link0.referrers.front(), (NamedCount{"other", 1000 - (100 * 4 + 156 * 3)}));
  EXPECT_EQ(store.top_links(1).value().front().clicks, 1000u);
}

TEST(ClickStreamTest, TwoConsumersShareTheWorkAndTheTotalIsExact) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  auto one = consumer_named("stats-1");
  auto two = consumer_named("stats-2");
  one.batch_size = two.batch_size = 50;
  ClickConsumer first(options_for(server), one);
  ClickConsumer second(options_for(server), two);
  first.start();
  second.start();
  ASSERT_TRUE(wait_until([&] { return first.counters().lag == 0; }, 5s));  // group exists
  publish(client, 10000);
  ASSERT_TRUE(wait_until(
      [&] { return first.counters().applied + second.counters().applied == 10000; }, 10s));
  EXPECT_GT(first.counters().applied, 0u);
  EXPECT_GT(second.counters().applied, 0u);
  EXPECT_EQ(all_clicks(client), 10000u);
}

TEST(ClickStreamTest, ExactlyOnceWhenAConsumerDiesMidBatch) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  ASSERT_TRUE(ensure_group(client, "stats").ok());
  publish(client, 1000);
  // Consumer A reads every entry, then "dies" before applying them.
  const auto read = client.command({"XREADGROUP", "GROUP", "stats", "A", "COUNT", "5000", "STREAMS",
                                    std::string(kClickStream), ">"});
  ASSERT_TRUE(read.ok());
  const auto entries_of_a = parse_stream_entries(read.value().elements.at(0).elements.at(1));
  ASSERT_EQ(entries_of_a.size(), 1000u);

  auto options = consumer_named("B");
  options.claim_min_idle = 200ms;
  options.claim_interval = 100ms;
  ClickConsumer b(options_for(server), options);
  b.start();
  ASSERT_TRUE(wait_until([&] { return b.counters().applied == 1000; }, 10s));
  // A comes back and applies its batch late: nothing is counted twice.
  const auto late = ack_and_apply(client, "stats", entries_of_a);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late.value(), 0u);
  b.stop();
  EXPECT_EQ(b.counters().applied, 1000u);
  EXPECT_EQ(all_clicks(client), 1000u);
  EXPECT_EQ(client.command({"XPENDING", std::string(kClickStream), "stats"})
                .value()
                .elements.at(0)
                .integer,
            0);
}

TEST(ClickStreamTest, TrimmingNeverRemovesWhatAGroupStillNeeds) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  ASSERT_TRUE(ensure_group(client, "stats").ok());
  publish(client, 100);
  ASSERT_TRUE(client.command({"XGROUP", "CREATE", std::string(kClickStream), "audit", "0"}).ok());
  const auto read = client.command({"XREADGROUP", "GROUP", "stats", "A", "COUNT", "100", "STREAMS",
                                    std::string(kClickStream), ">"});
  const auto entries = parse_stream_entries(read.value().elements.at(0).elements.at(1));
  ASSERT_EQ(entries.size(), 100u);
  EXPECT_EQ(trim_acknowledged(client).value(), 0);  // all pending
  EXPECT_EQ(stream_lag(client, "stats").value(), 100);

  const std::vector<StreamEntry> first_half(entries.begin(), entries.begin() + 50);
  ASSERT_EQ(ack_and_apply(client, "stats", first_half).value(), 50u);
  EXPECT_EQ(trim_acknowledged(client).value(), 0);  // "audit" has read nothing yet
  EXPECT_EQ(stream_length(client), 100);
  EXPECT_EQ(stream_lag(client, "stats").value(), 50);

  ASSERT_TRUE(client.command({"XGROUP", "DESTROY", std::string(kClickStream), "audit"}).ok());
  EXPECT_EQ(trim_acknowledged(client).value(), 50);  // below stats' oldest pending entry
  EXPECT_EQ(stream_length(client), 50);

  const std::vector<StreamEntry> second_half(entries.begin() + 50, entries.end());
  ASSERT_EQ(ack_and_apply(client, "stats", second_half).value(), 50u);
  EXPECT_EQ(trim_acknowledged(client).value(), 49);  // the last delivered entry stays
  EXPECT_EQ(stream_length(client), 1);
  EXPECT_EQ(stream_lag(client, "stats").value(), 0);
  EXPECT_EQ(all_clicks(client), 100u);
}

// Found by fuzzing (fuzz/regressions/click_decoder/): a click time the clock cannot hold was
// converted anyway (signed overflow, UB). Such an entry is malformed: acknowledged, not counted.
TEST(ClickStreamTest, ClickTimesTheClockCannotHoldAreMalformed) {
  using kurz::redis::Reply;
  const auto str = [](std::string v) {
    Reply r;
    r.type = Reply::Type::String;
    r.str = std::move(v);
    return r;
  };
  const auto entry = [&](const std::string& t) {
    Reply fields;
    fields.type = Reply::Type::Array;
    fields.elements = {str("t"), str(t), str("c"), str("abc1234")};
    Reply e;
    e.type = Reply::Type::Array;
    e.elements = {str("1-0"), fields};
    return e;
  };
  Reply all;
  all.type = Reply::Type::Array;
  for (const auto* t :
       {"9999999999999", "99999999999999999999", "-9999999999999", "1700000000000", "-1", "12x"}) {
    all.elements.push_back(entry(t));
  }
  const auto entries = parse_stream_entries(all);
  ASSERT_EQ(entries.size(), 6u);
  EXPECT_FALSE(entries[0].event);
  EXPECT_FALSE(entries[1].event);
  EXPECT_FALSE(entries[2].event);
  ASSERT_TRUE(entries[3].event);
  EXPECT_EQ(entries[3].event->at.time_since_epoch(), std::chrono::milliseconds(1700000000000));
  EXPECT_TRUE(entries[4].event);
  EXPECT_FALSE(entries[5].event);
}

}  // namespace
}  // namespace kurz::stats::redis
