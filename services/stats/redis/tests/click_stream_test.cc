// The click stream end to end against a real redis-server: ClickBuffer → RedisClickPublisher →
// kurz:clicks:v2 (and the format 1 kurz:clicks) → ClickConsumer → RedisStatsStore, counted
// exactly once, whatever the consumers do.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>

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
using clickstream::Stream;
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

long long stream_length(kurz::redis::Client& client, Stream stream = Stream::Legacy) {
  return client.command({"XLEN", std::string(clickstream::key_of(stream))}).value().integer;
}

// Clicks appended to kurz:clicks:v2 (its counter, stream.h).
long long appended_clicks(kurz::redis::Client& client) {
  const auto reply = client.command({"GET", std::string(clickstream::kAppendedKey)});
  return reply.ok() && !reply.value().is_nil() ? std::stoll(reply.value().str) : 0;
}

// Appends `n` clicks on link0..link9 straight through a producer of `stream` (format 2: the
// publisher; format 1: the producer released before it), in batches of 100.
void publish(kurz::redis::Client& client, int n, Stream stream = Stream::V2) {
  RedisClickPublisher publisher(client, "test");
  LegacyPublisher legacy(client, "kurz:clicks:producer:legacy-test");
  std::vector<common::ClickEvent> batch;
  std::uint64_t sequence = 0;
  for (int i = 0; i < n; ++i) {
    batch.push_back(click("link" + std::to_string(i % 10), i % 3, "", "ua"));
    if (batch.size() == 100 || i == n - 1) {
      if (stream == Stream::V2) {
        ASSERT_TRUE(publisher.publish(++sequence, batch).ok());
      } else {
        ASSERT_TRUE(legacy.publish(++sequence, batch));
      }
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
  EXPECT_EQ(appended_clicks(client), 10000);  // in about 10000 / 512 entries
  EXPECT_LE(stream_length(client, Stream::V2), 10000 / 2);

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

class ClickStreamFormatTest : public ::testing::TestWithParam<Stream> {};

TEST_P(ClickStreamFormatTest, ExactlyOnceWhenAConsumerDiesMidBatch) {
  const Stream stream = GetParam();
  const std::string key(clickstream::key_of(stream));
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  ASSERT_TRUE(ensure_group(client, "stats").ok());
  publish(client, 1000, stream);
  // Consumer A reads every entry, then "dies" before applying them.
  const auto read =
      client.command({"XREADGROUP", "GROUP", "stats", "A", "COUNT", "5000", "STREAMS", key, ">"});
  ASSERT_TRUE(read.ok());
  const auto entries_of_a =
      clickstream::decode_entries(read.value().elements.at(0).elements.at(1), stream);
  ASSERT_EQ(entries_of_a.size(), stream == Stream::V2 ? 10u : 1000u);  // format 2: per batch

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
  EXPECT_EQ(client.command({"XPENDING", key, "stats"}).value().elements.at(0).integer, 0);
}

INSTANTIATE_TEST_SUITE_P(BothFormats, ClickStreamFormatTest,
                         ::testing::Values(Stream::V2, Stream::Legacy), [](const auto& param_info) {
                           return param_info.param == Stream::V2 ? std::string("V2")
                                                                 : std::string("Legacy");
                         });

TEST(ClickStreamTest, TrimmingNeverRemovesWhatAGroupStillNeeds) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  ASSERT_TRUE(ensure_group(client, "stats").ok());
  publish(client, 100, Stream::Legacy);  // one entry per click
  ASSERT_TRUE(
      client.command({"XGROUP", "CREATE", std::string(clickstream::kLegacyStream), "audit", "0"})
          .ok());
  const auto read = client.command({"XREADGROUP", "GROUP", "stats", "A", "COUNT", "100", "STREAMS",
                                    std::string(clickstream::kLegacyStream), ">"});
  const auto entries =
      clickstream::decode_entries(read.value().elements.at(0).elements.at(1), Stream::Legacy);
  ASSERT_EQ(entries.size(), 100u);
  EXPECT_EQ(trim_acknowledged(client).value(), 0);  // all pending
  EXPECT_EQ(stream_lag(client, "stats").value(), 100);

  const std::vector<StreamEntry> first_half(entries.begin(), entries.begin() + 50);
  ASSERT_EQ(ack_and_apply(client, "stats", first_half).value(), 50u);
  EXPECT_EQ(trim_acknowledged(client).value(), 0);  // "audit" has read nothing yet
  EXPECT_EQ(stream_length(client), 100);
  EXPECT_EQ(stream_lag(client, "stats").value(), 50);

  ASSERT_TRUE(
      client.command({"XGROUP", "DESTROY", std::string(clickstream::kLegacyStream), "audit"}).ok());
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
// converted anyway (signed overflow, UB). Such a format 1 entry is malformed: acknowledged, not
// counted.
TEST(ClickStreamTest, ClickTimesTheClockCannotHoldAreMalformed) {
  using kurz::redis::Reply;
  const auto str = [](std::string v) {
    Reply r;
    r.type = Reply::Type::String;
    r.str = std::move(v);
    return r;
  };
  const auto fields_of = [&](const std::string& t) {
    Reply fields;
    fields.type = Reply::Type::Array;
    fields.elements = {str("t"), str(t), str("c"), str("abc1234")};
    return fields;
  };
  Reply all;
  all.type = Reply::Type::Array;
  const char* times[] = {
      "9999999999999", "99999999999999999999", "-9999999999999", "1700000000000", "-1", "12x"};
  for (const auto* t : times) {
    Reply e;
    e.type = Reply::Type::Array;
    e.elements = {str("1-0"), fields_of(t)};
    all.elements.push_back(e);
  }
  const auto entries = clickstream::decode_entries(all, Stream::Legacy);
  ASSERT_EQ(entries.size(), 6u);
  const bool valid[] = {false, false, false, true, true, false};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(entries[i].kind == StreamEntry::Kind::Clicks, valid[i]) << times[i];
    EXPECT_EQ(entries[i].kind == StreamEntry::Kind::Malformed, !valid[i]) << times[i];
  }
  common::ClickEvent event;
  ASSERT_TRUE(clickstream::decode_legacy_fields(fields_of("1700000000000"), event));
  EXPECT_EQ(event.at.time_since_epoch(), std::chrono::milliseconds(1700000000000));
  ASSERT_EQ(entries[3].rows.size(), 1u);
  EXPECT_EQ(entries[3].rows[0].day, 19675);  // 2023-11-14
}

// Format 2 trims like format 1, and the lag counts clicks, not entries.
TEST(ClickStreamTest, FormatTwoLagCountsClicksAndTrimKeepsWhatIsPending) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  ASSERT_TRUE(ensure_group(client, "stats").ok());
  publish(client, 1000);  // 10 entries of 100 clicks
  EXPECT_EQ(stream_length(client, Stream::V2), 10);
  EXPECT_EQ(stream_lag(client, "stats").value(), 1000);
  const auto read = client.command({"XREADGROUP", "GROUP", "stats", "A", "COUNT", "4", "STREAMS",
                                    std::string(clickstream::kStream), ">"});
  const auto entries =
      clickstream::decode_entries(read.value().elements.at(0).elements.at(1), Stream::V2);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(stream_lag(client, "stats").value(), 1000);  // 400 pending, 600 unread
  EXPECT_EQ(ack_and_apply(client, "stats", {entries[0], entries[1]}).value(), 200u);
  EXPECT_EQ(stream_lag(client, "stats").value(), 800);
  EXPECT_EQ(trim_acknowledged(client).value(), 2);  // below the oldest pending entry
  EXPECT_EQ(stream_length(client, Stream::V2), 8);
  EXPECT_EQ(ack_and_apply(client, "stats", {entries[2], entries[3]}).value(), 200u);
  EXPECT_EQ(ack_and_apply(client, "stats", {entries[2], entries[3]}).value(), 0u);  // once only
  EXPECT_EQ(stream_lag(client, "stats").value(), 600);
  EXPECT_EQ(all_clicks(client), 400u);
}

// Two consumers hold the same entries (one claimed them from the other, which is not dead but
// slow) and apply them at the same moment: the XACK in the script lets exactly one count each.
TEST(ClickStreamTest, AClaimedEntryRacingAnApplyIsCountedOnce) {
  testing::RedisServer server;
  kurz::redis::Client setup(options_for(server));
  kurz::redis::Client client_a(options_for(server));
  kurz::redis::Client client_b(options_for(server));
  ASSERT_TRUE(ensure_group(setup, "stats").ok());
  constexpr int kRounds = 40;
  std::uint64_t counted_a = 0, counted_b = 0;
  for (int round = 0; round < kRounds; ++round) {
    publish(setup, 1000);  // 10 entries
    const auto read = client_a.command({"XREADGROUP", "GROUP", "stats", "A", "COUNT", "100",
                                        "STREAMS", std::string(clickstream::kStream), ">"});
    const auto mine =
        clickstream::decode_entries(read.value().elements.at(0).elements.at(1), Stream::V2);
    ASSERT_EQ(mine.size(), 10u);
    const auto claim = client_b.command({"XAUTOCLAIM", std::string(clickstream::kStream), "stats",
                                         "B", "0", "0-0", "COUNT", "100"});
    const auto claimed = clickstream::decode_entries(claim.value().elements.at(1), Stream::V2);
    ASSERT_EQ(claimed.size(), 10u);
    // Each applies every other entry first, then the rest: their scripts interleave entry by
    // entry across rounds.
    std::vector<StreamEntry> a_order, b_order;
    for (std::size_t i = 0; i < 10; ++i) (i % 2 ? a_order : b_order).push_back(mine[i]);
    for (std::size_t i = 0; i < 10; ++i) (i % 2 ? b_order : a_order).push_back(claimed[i]);
    std::atomic<int> ready{0};
    const auto start_together = [&] {
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();
    };
    std::size_t got_a = 0, got_b = 0;
    std::thread a([&] {
      start_together();
      for (const auto& entry : a_order) got_a += ack_and_apply(client_a, "stats", {entry}).value();
    });
    std::thread b([&] {
      start_together();
      for (const auto& entry : b_order) got_b += ack_and_apply(client_b, "stats", {entry}).value();
    });
    a.join();
    b.join();
    ASSERT_EQ(got_a + got_b, 1000u) << "round " << round;
    counted_a += got_a;
    counted_b += got_b;
  }
  EXPECT_GT(counted_a, 0u);
  EXPECT_GT(counted_b, 0u);
  EXPECT_EQ(all_clicks(setup), 1000u * kRounds);
  EXPECT_EQ(stream_lag(setup, "stats").value(), 0);
}

// An entry of a format this build does not know (a newer producer's) is neither acknowledged nor
// counted: it stays pending for a newer worker, and does not hold up the others.
TEST(ClickStreamTest, AnEntryOfAnUnknownFormatStaysPending) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  ASSERT_TRUE(ensure_group(client, "stats").ok());
  ASSERT_TRUE(client
                  .command({"XADD", std::string(clickstream::kStream), "*", "v", "3", "n", "5", "x",
                            "whatever"})
                  .ok());
  ASSERT_TRUE(client
                  .command({"XADD", std::string(clickstream::kLegacyStream), "*", "v", "2", "t",
                            "1700000000000", "c", "link1"})
                  .ok());
  publish(client, 300);
  publish(client, 200, Stream::Legacy);
  auto options = consumer_named("stats-1");
  {
    ClickConsumer consumer(options_for(server), options);
    consumer.start();
    ASSERT_TRUE(wait_until([&] { return consumer.counters().applied == 500; }, 10s));
    EXPECT_GE(consumer.counters().unknown, 2u);
  }
  // Restarted under the same name: it re-reads its pending entries, walks past the two it leaves
  // pending, and goes on with new ones.
  ClickConsumer restarted(options_for(server), options);
  restarted.start();
  publish(client, 100);
  ASSERT_TRUE(wait_until([&] { return restarted.counters().applied == 100; }, 10s));
  EXPECT_GE(restarted.counters().unknown, 2u);
  restarted.stop();
  for (const auto stream : {clickstream::kStream, clickstream::kLegacyStream}) {
    EXPECT_EQ(
        client.command({"XPENDING", std::string(stream), "stats"}).value().elements.at(0).integer,
        1)
        << stream;
  }
  EXPECT_EQ(all_clicks(client), 600u);
}

// A rolling update under load, in the order that is hardest: the old producer (format 1, into
// kurz:clicks) and the new one (format 2, into kurz:clicks:v2) write side by side while an old
// worker (it reads kurz:clicks only, as the workers before format 2 did) counts, then dies with a
// batch in hand; new workers take over. Every click is counted exactly once.
TEST(ClickStreamTest, RollingUpdateUnderLoadCountsExactly) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  std::atomic<bool> producing{true};
  std::atomic<std::uint64_t> legacy_sent{0};
  // The old replica: format 1 batches of 50, as fast as it can.
  std::thread old_producer([&] {
    kurz::redis::Client own(options_for(server));
    LegacyPublisher legacy(own, "kurz:clicks:producer:redirect-old:1");
    std::uint64_t sequence = 0;
    for (int i = 0; producing; ++i) {
      std::vector<common::ClickEvent> batch;
      for (int j = 0; j < 50; ++j) batch.push_back(click("link" + std::to_string(j % 7), i % 2));
      ASSERT_TRUE(legacy.publish(++sequence, batch));
      legacy_sent += 50;
      std::this_thread::sleep_for(1ms);
    }
  });
  // The new replica: through the real buffer.
  RedisClickPublisher publisher(client, "redirect-new");
  redirect::ClickBuffer buffer(publisher, {});
  std::uint64_t new_sent = 0;
  // The old worker: XREADGROUP on kurz:clicks only, acknowledging what it counts.
  ASSERT_TRUE(client
                  .command({"XGROUP", "CREATE", std::string(clickstream::kLegacyStream), "stats",
                            "0", "MKSTREAM"})
                  .ok());
  std::atomic<bool> old_working{true};
  std::thread old_worker([&] {
    kurz::redis::Client own(options_for(server));
    while (true) {
      const auto read = own.command({"XREADGROUP", "GROUP", "stats", "stats-old", "COUNT", "76",
                                     "STREAMS", std::string(clickstream::kLegacyStream), ">"});
      ASSERT_TRUE(read.ok());
      if (read.value().is_nil()) {
        std::this_thread::sleep_for(1ms);
        continue;
      }
      const auto entries =
          clickstream::decode_entries(read.value().elements.at(0).elements.at(1), Stream::Legacy);
      if (!old_working) return;  // SIGKILLed with this batch read, not applied
      ASSERT_TRUE(ack_and_apply(own, "stats", entries).ok());
    }
  });
  for (int i = 0; i < 3000; ++i) {
    buffer.record(click("link" + std::to_string(i % 11), i % 3, "https://r.example/", "ua"));
    ++new_sent;
    if (i % 100 == 0) std::this_thread::sleep_for(1ms);
  }
  old_working = false;
  old_worker.join();
  // The upgrade: two new workers, one of them claiming what the old one left pending.
  auto options = consumer_named("stats-new-1");
  options.claim_min_idle = 200ms;
  options.claim_interval = 100ms;
  ClickConsumer first(options_for(server), options);
  ClickConsumer second(options_for(server), consumer_named("stats-new-2"));
  first.start();
  second.start();
  for (int i = 0; i < 3000; ++i) {
    buffer.record(click("link" + std::to_string(i % 11), i % 3, "", "curl/8"));
    ++new_sent;
    if (i % 100 == 0) std::this_thread::sleep_for(1ms);
  }
  producing = false;
  old_producer.join();
  ASSERT_TRUE(buffer.flush(10s));
  const std::uint64_t total = legacy_sent + new_sent;
  ASSERT_TRUE(wait_until([&] { return all_clicks(client) >= total; }, 20s))
      << all_clicks(client) << " of " << total;
  ASSERT_TRUE(wait_until([&] { return first.counters().lag == 0; }, 5s));
  EXPECT_EQ(all_clicks(client), total);
  EXPECT_GT(legacy_sent.load(), 0u);
  EXPECT_EQ(buffer.dropped(), 0u);
  std::printf("rolling update: %llu format 1 clicks + %llu format 2 clicks counted exactly\n",
              static_cast<unsigned long long>(legacy_sent.load()),
              static_cast<unsigned long long>(new_sent));
}

}  // namespace
}  // namespace kurz::stats::redis
