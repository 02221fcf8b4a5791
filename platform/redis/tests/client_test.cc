// The client against a real redis-server: round trips, pipelines, scripts, and above all the
// bounds: no call outlives its timeout, whether Redis is gone, hung, or back again.
#include "kurz/redis/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "redis_client_options.h"
#include "redis_server.h"

namespace kurz::redis {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(RedisClientTest, CommandsAndPipelines) {
  testing::RedisServer server;
  Client client(testing::client_options(server));
  ASSERT_TRUE(client.ping().ok());
  EXPECT_EQ(client.command({"SET", "k", std::string("v\0x", 3)}).value().str, "OK");
  EXPECT_EQ(client.command({"GET", "k"}).value().str, std::string("v\0x", 3));
  EXPECT_TRUE(client.command({"GET", "missing"}).value().is_nil());
  EXPECT_TRUE(client.command({"NOSUCHCOMMAND"}).value().is_error());
  const auto replies =
      client.pipeline({{"INCR", "n"}, {"INCR", "n"}, {"LRANGE", "none", "0", "-1"}});
  ASSERT_TRUE(replies.ok());
  EXPECT_EQ(replies.value()[1].integer, 2);
  EXPECT_EQ(replies.value()[2].type, Reply::Type::Array);
}

TEST(RedisClientTest, ScriptsSurviveAScriptFlush) {
  testing::RedisServer server;
  Client client(testing::client_options(server));
  const Script script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  EXPECT_EQ(client.eval(script, {"counter"}, {"5"}).value().integer, 5);
  ASSERT_TRUE(client.command({"SCRIPT", "FLUSH"}).ok());
  EXPECT_EQ(client.eval(script, {"counter"}, {"2"}).value().integer, 7);
}

TEST(RedisClientTest, ConcurrentCallersShareThePool) {
  testing::RedisServer server;
  Client client(testing::client_options(server));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (!client.command({"INCR", "shared"}).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(client.command({"GET", "shared"}).value().str, "4000");
}

TEST(RedisClientTest, RedisGoneFailsFastAndComesBack) {
  testing::RedisServer server;
  Client client(testing::client_options(server));
  ASSERT_TRUE(client.ping().ok());
  server.stop();
  for (int i = 0; i < 20; ++i) {
    const auto started = Clock::now();
    const auto reply = client.command({"GET", "k"});
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().kind, common::ErrorKind::Unavailable);
    EXPECT_LT(Clock::now() - started, 450ms);
  }
  server.start();
  const auto restarted = Clock::now();
  while (!client.ping().ok()) {
    ASSERT_LT(Clock::now() - restarted, 2s) << "did not reconnect within the backoff bound";
    std::this_thread::sleep_for(20ms);
  }
}

TEST(RedisClientTest, HungRedisNeverBlocksPastTheTimeout) {
  testing::RedisServer server;
  Client client(testing::client_options(server));
  ASSERT_TRUE(client.ping().ok());
  server.pause();
  for (int i = 0; i < 5; ++i) {
    const auto started = Clock::now();
    EXPECT_FALSE(client.command({"GET", "k"}).ok());
    // One command timeout, or a connect timeout plus a command timeout after a reconnect.
    EXPECT_LT(Clock::now() - started, 600ms) << "attempt " << i;
  }
  server.resume();
  const auto resumed = Clock::now();
  while (!client.ping().ok()) {
    ASSERT_LT(Clock::now() - resumed, 2s);
    std::this_thread::sleep_for(20ms);
  }
}

TEST(RedisClientTest, WrongPasswordIsUnavailableNotACrash) {
  testing::RedisServer server;
  auto options = testing::client_options(server);
  options.url.password = "wrong";
  Client client(options);
  EXPECT_FALSE(client.ping().ok());
}

}  // namespace
}  // namespace kurz::redis
