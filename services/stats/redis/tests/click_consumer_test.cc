// Failure behaviour against a real redis-server: Redis stopped, restarted, or hung while clicks
// flow; nothing crashes, overflow is counted exactly, everything resumes by itself.
#include "kurz/stats/redis/click_consumer.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "fixture.h"
#include "kurz/redirect/click_buffer.h"
#include "kurz/redirect/redis/click_publisher.h"
#include "kurz/stats/redis/consumer_metrics.h"
#include "kurz/stats/redis/keys.h"
#include "kurz/stats/redis/redis_stats_store.h"

namespace kurz::stats::redis {
namespace {

using namespace test;
using SteadyClock = std::chrono::steady_clock;

ConsumerOptions fast_consumer() {
  ConsumerOptions options;
  options.consumer = "stats-1";
  options.block = 100ms;
  options.lag_interval = 50ms;
  options.max_backoff = 500ms;
  return options;
}

redirect::ClickBuffer::Options small_buffer() {
  redirect::ClickBuffer::Options options;
  options.capacity = 1000;
  options.batch_size = 100;
  options.max_backoff = 200ms;
  return options;
}

std::uint64_t total_of(kurz::redis::Client& client, const std::string& code) {
  const auto stats = RedisStatsStore(client).link_stats(code, 0);
  return stats.ok() && stats.value() ? stats.value()->total : 0;
}

TEST(ClickConsumerTest, RedisRestartedWhileRecording) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  redirect::redis::RedisClickPublisher publisher(client, "redirect-1");
  redirect::ClickBuffer buffer(publisher, small_buffer());
  ClickConsumer consumer(options_for(server), fast_consumer());
  consumer.start();
  for (int i = 0; i < 500; ++i) buffer.record(click("abc"));
  ASSERT_TRUE(wait_until([&] { return total_of(client, "abc") == 500; }, 5s));

  server.stop();  // without persistence: stream, group and stats are gone with it
  for (int i = 0; i < 1500; ++i) buffer.record(click("abc"));
  EXPECT_EQ(buffer.pending(), 1000u);
  EXPECT_EQ(buffer.dropped(), 500u);  // exactly what did not fit
  // The consumer notices (and backs off), observed rather than assumed after a sleep.
  EXPECT_TRUE(wait_until([&] { return !consumer.healthy(); }, 5s));

  server.start();  // within 5 s (backoffs of at most 500 ms and 200 ms), everything resumes
  ASSERT_TRUE(wait_until([&] { return total_of(client, "abc") == 1000; }, 5s));
  EXPECT_TRUE(wait_until([&] { return consumer.healthy(); }, 1s));
  EXPECT_EQ(buffer.published(), 1500u);
  EXPECT_EQ(buffer.dropped(), 500u);
  EXPECT_EQ(buffer.pending(), 0u);
  // The counter moves just after the script that counted the clicks returns.
  EXPECT_TRUE(wait_until([&] { return consumer.counters().applied == 1500; }, 1s));
}

TEST(ClickConsumerTest, ABatchWhoseReplyWasLostIsNotAppendedTwice) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  redirect::redis::RedisClickPublisher publisher(client, "redirect-1");
  redirect::ClickBuffer buffer(publisher, small_buffer());
  server.pause();  // accepts the batch, answers nothing: the publisher times out
  for (int i = 0; i < 300; ++i) buffer.record(click("abc"));
  std::this_thread::sleep_for(800ms);
  server.resume();  // now Redis appends the batch it was sent, and the retry finds it done
  ASSERT_TRUE(buffer.flush(5s));
  // Each batch became one entry, appended once: the stream holds 300 clicks.
  EXPECT_EQ(client.command({"GET", std::string(clickstream::kAppendedKey)}).value().str, "300");
}

TEST(ClickConsumerTest, StopIsBoundedEvenWhileRedisIsAway) {
  testing::RedisServer server;
  ClickConsumer consumer(options_for(server), fast_consumer());
  consumer.start();
  ASSERT_TRUE(wait_until([&] { return consumer.counters().lag >= 0; }, 5s));  // it is running
  server.pause();
  std::this_thread::sleep_for(300ms);
  const auto started = SteadyClock::now();
  consumer.stop();
  EXPECT_LT(SteadyClock::now() - started, 2s);
  server.resume();
}

TEST(ClickConsumerTest, MetricsShowLagAndApplied) {
  testing::RedisServer server;
  kurz::redis::Client client(options_for(server));
  prometheus::Registry registry;
  ClickConsumerMetrics metrics(registry);
  auto options = fast_consumer();
  options.observer = metrics.observer();
  {
    redirect::redis::RedisClickPublisher publisher(client, "redirect-1");
    ASSERT_TRUE(publisher.publish(1, {click("abc"), click("abd"), click("abe")}).ok());
  }
  ClickConsumer consumer(options_for(server), options);
  consumer.start();
  ASSERT_TRUE(wait_until([&] { return consumer.counters().applied == 3; }, 5s));
  ASSERT_TRUE(wait_until([&] { return consumer.counters().lag == 0; }, 5s));
  consumer.stop();
  double applied = -1, lag = -1;
  for (const auto& family : registry.Collect()) {
    if (family.name == "kurz_clicks_applied_total") applied = family.metric.at(0).counter.value;
    if (family.name == "kurz_click_stream_lag") lag = family.metric.at(0).gauge.value;
  }
  EXPECT_EQ(applied, 3);
  EXPECT_EQ(lag, 0);
}

}  // namespace
}  // namespace kurz::stats::redis
