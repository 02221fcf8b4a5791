// The stream producer against a real redis-server: entry layout, idempotent retries, failures as
// values, and the buffer's metrics.
#include "kurz/redirect/redis/click_publisher.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "kurz/redirect/redis/click_metrics.h"
#include "kurz/redis/client.h"
#include "redis_client_options.h"
#include "redis_server.h"

namespace kurz::redirect::redis {
namespace {

using namespace std::chrono_literals;

long long stream_length(kurz::redis::Client& client) {
  return client.command({"XLEN", kClickStream}).value().integer;
}

TEST(RedisClickPublisherTest, AppendsOneEntryPerEvent) {
  testing::RedisServer server;
  kurz::redis::Client client(testing::client_options(server));
  RedisClickPublisher publisher(client, "redirect-1");
  const common::TimePoint at{std::chrono::milliseconds(1795476426123)};
  ASSERT_TRUE(
      publisher.publish(1, {{at, "abc", "https://x.example/p", "curl/8"}, {at, "def", "", ""}})
          .ok());
  const auto entries = client.command({"XRANGE", kClickStream, "-", "+"}).value();
  ASSERT_EQ(entries.elements.size(), 2u);
  const auto& fields = entries.elements[0].elements[1].elements;
  ASSERT_EQ(fields.size(), 8u);
  EXPECT_EQ(fields[0].str, "t");
  EXPECT_EQ(fields[1].str, "1795476426123");
  EXPECT_EQ(fields[3].str, "abc");
  EXPECT_EQ(fields[5].str, "https://x.example/p");
  EXPECT_EQ(fields[7].str, "curl/8");
}

TEST(RedisClickPublisherTest, ARetriedSequenceIsNotAppendedTwice) {
  testing::RedisServer server;
  kurz::redis::Client client(testing::client_options(server));
  RedisClickPublisher publisher(client, "redirect-1");
  const std::vector<common::ClickEvent> batch{{{}, "abc", "", ""}, {{}, "abc", "", ""}};
  ASSERT_TRUE(publisher.publish(1, batch).ok());
  ASSERT_TRUE(publisher.publish(1, batch).ok());  // the reply of the first was "lost"
  EXPECT_EQ(stream_length(client), 2);
  ASSERT_TRUE(publisher.publish(2, batch).ok());
  EXPECT_EQ(stream_length(client), 4);
  // Another process with the same instance id has its own sequence.
  RedisClickPublisher restarted(client, "redirect-1");
  EXPECT_NE(restarted.producer_key(), publisher.producer_key());
  ASSERT_TRUE(restarted.publish(1, batch).ok());
  EXPECT_EQ(stream_length(client), 6);
}

TEST(RedisClickPublisherTest, RedisAwayIsAnUnavailableError) {
  testing::RedisServer server;
  kurz::redis::Client client(testing::client_options(server));
  RedisClickPublisher publisher(client, "redirect-1");
  server.stop();
  const auto result = publisher.publish(1, {{{}, "abc", "", ""}});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, common::ErrorKind::Unavailable);
}

double value_of(prometheus::Registry& registry, const std::string& name) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    const auto& metric = family.metric.at(0);
    return family.type == prometheus::MetricType::Gauge ? metric.gauge.value : metric.counter.value;
  }
  return -1;
}

TEST(ClickBufferMetricsTest, MirrorsTheBufferCounters) {
  prometheus::Registry registry;
  ClickBufferMetrics metrics(registry);
  metrics.update({7, 100, 3});
  metrics.update({2, 150, 3});
  EXPECT_EQ(value_of(registry, "kurz_clicks_buffered"), 2);
  EXPECT_EQ(value_of(registry, "kurz_clicks_published_total"), 150);
  EXPECT_EQ(value_of(registry, "kurz_clicks_dropped_total"), 3);
}

}  // namespace
}  // namespace kurz::redirect::redis
