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

const std::string kStream(clickstream::kStream);

long long stream_length(kurz::redis::Client& client) {
  return client.command({"XLEN", kStream}).value().integer;
}

long long appended(kurz::redis::Client& client) {
  return std::stoll(client.command({"GET", std::string(clickstream::kAppendedKey)}).value().str);
}

TEST(RedisClickPublisherTest, AppendsOneAggregatedEntryPerBatch) {
  testing::RedisServer server;
  kurz::redis::Client client(testing::client_options(server));
  RedisClickPublisher publisher(client, "redirect-1");
  const common::TimePoint at{std::chrono::milliseconds(1795476426123)};  // day 20780
  ASSERT_TRUE(publisher
                  .publish(1, {{at, "abc", "https://x.example/p", "curl/8"},
                               {at, "def", "", ""},
                               {at, "abc", "https://X.example/q?z", "curl/8"}})
                  .ok());
  const auto entries = client.command({"XRANGE", kStream, "-", "+"}).value();
  ASSERT_EQ(entries.elements.size(), 1u);
  const auto& fields = entries.elements[0].elements[1].elements;
  ASSERT_EQ(fields.size(), 6u);
  EXPECT_EQ(fields[0].str, "v");
  EXPECT_EQ(fields[1].str, "2");
  EXPECT_EQ(fields[2].str, "n");
  EXPECT_EQ(fields[3].str, "3");
  EXPECT_EQ(fields[4].str, "d");
  // Referrers normalised to their host, so both clicks on abc make one row.
  EXPECT_EQ(fields[5].str, "2,20780,3,9,6;abcx.examplecurl/81,20780,3,6,7;defdirectunknown");
  EXPECT_EQ(appended(client), 3);
  const auto decoded = clickstream::decode_entries(entries, clickstream::Stream::V2);
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0].kind, clickstream::Entry::Kind::Clicks);
  EXPECT_EQ(decoded[0].clicks, 3u);
  EXPECT_EQ(decoded[0].rows,
            (std::vector<clickstream::Row>{{"abc", 20780, "x.example", "curl/8", 2},
                                           {"def", 20780, "direct", "unknown", 1}}));
}

TEST(RedisClickPublisherTest, ARetriedSequenceIsNotAppendedTwice) {
  testing::RedisServer server;
  kurz::redis::Client client(testing::client_options(server));
  RedisClickPublisher publisher(client, "redirect-1");
  const std::vector<common::ClickEvent> batch{{{}, "abc", "", ""}, {{}, "abc", "", ""}};
  ASSERT_TRUE(publisher.publish(1, batch).ok());
  ASSERT_TRUE(publisher.publish(1, batch).ok());  // the reply of the first was "lost"
  EXPECT_EQ(stream_length(client), 1);
  EXPECT_EQ(appended(client), 2);
  ASSERT_TRUE(publisher.publish(2, batch).ok());
  EXPECT_EQ(stream_length(client), 2);
  EXPECT_EQ(appended(client), 4);
  // Another process with the same instance id has its own sequence.
  RedisClickPublisher restarted(client, "redirect-1");
  EXPECT_NE(restarted.producer_key(), publisher.producer_key());
  ASSERT_TRUE(restarted.publish(1, batch).ok());
  EXPECT_EQ(stream_length(client), 3);
  EXPECT_EQ(appended(client), 6);
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
