// The client against a real redis-server: round trips, pipelines, scripts, and above all the
// bounds: no call outlives its timeout, whether Redis is gone, hung, or back again.
#include "kurz/redis/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "kurz/common/clock.h"
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
  // Sharing is the subject, not the bound: 8 callers on a slower build (ThreadSanitizer) on a busy
  // machine may wait past the tests' usual 200 ms for a pooled connection.
  Client client(testing::client_options(server, std::chrono::seconds(5)));
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

// The reconnect backoff is measured on the client's clock: Redis back before the backoff has passed
// is not tried, and is the moment it has.
TEST(RedisClientTest, AfterAFailedConnectItWaitsOutTheBackoffOnItsClock) {
  testing::RedisServer server;
  common::ManualClock clock;
  auto options = testing::client_options(server);
  options.clock = &clock;
  options.pool_size = 1;
  Client client(options);
  ASSERT_TRUE(client.ping().ok());
  server.stop();
  EXPECT_FALSE(client.ping().ok());  // the pooled connection is gone
  EXPECT_FALSE(client.ping().ok());  // and a new one fails: a backoff of 50 ms
  server.start();
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(client.ping().ok()) << i;  // no connect is tried
  EXPECT_EQ(clock.advance(49ms), 0u);
  EXPECT_FALSE(client.ping().ok());
  clock.advance(1ms);
  EXPECT_TRUE(client.ping().ok());
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

// A replica of `primary`, attached and in sync (bounded wait).
void attach(testing::RedisServer& replica, const testing::RedisServer& primary) {
  Client primary_admin(testing::client_options(primary));
  // Redis 7 waits 5 s before a diskless full sync by default, for more replicas to join.
  ASSERT_TRUE(primary_admin.command({"CONFIG", "SET", "repl-diskless-sync-delay", "0"}).ok());
  Client admin(testing::client_options(replica));
  // Loaded from the socket, not written as dump.rdb into the working directory first.
  ASSERT_TRUE(admin.command({"CONFIG", "SET", "repl-diskless-load", "on-empty-db"}).ok());
  ASSERT_EQ(admin.command({"REPLICAOF", "127.0.0.1", std::to_string(primary.port())}).value().str,
            "OK");
  const auto started = Clock::now();
  while (true) {
    const auto wait = primary_admin.command({"WAIT", "1", "100"});
    if (wait.ok() && wait.value().integer >= 1) return;
    ASSERT_LT(Clock::now() - started, 5s) << "the replica did not attach";
    std::this_thread::sleep_for(50ms);
  }
}

TEST(RedisClientTest, WaitAutoWithoutReplicasDoesNotWait) {
  testing::RedisServer server;
  Client client(testing::client_options(server));
  const Script script("return redis.call('INCR', KEYS[1])");
  const auto reply = client.eval_replicated(script, {"n"}, {});
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply.value().integer, 1);
  EXPECT_EQ(client.replicas_to_wait(), 0);
  // No WAIT was sent: INFO commandstats has none.
  const auto stats = client.command({"INFO", "commandstats"}).value().str;
  EXPECT_EQ(stats.find("cmdstat_wait"), std::string::npos);
}

TEST(RedisClientTest, WaitAutoWaitsForAConnectedReplica) {
  testing::RedisServer primary;
  testing::RedisServer replica;
  attach(replica, primary);
  Client client(testing::client_options(primary));
  ASSERT_TRUE(client.command({"CONFIG", "RESETSTAT"}).ok());  // attach() sent WAITs too
  const Script script("return redis.call('INCR', KEYS[1])");
  const auto reply = client.eval_replicated(script, {"n"}, {});
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(client.replicas_to_wait(), 1);
  // Kept: the replica has it as soon as the call returned.
  Client reader(testing::client_options(replica));
  EXPECT_EQ(reader.command({"GET", "n"}).value().str, "1");
  const auto stats = client.command({"INFO", "commandstats"}).value().str;
  EXPECT_NE(stats.find("cmdstat_wait:calls=1,"), std::string::npos) << stats;
}

TEST(RedisClientTest, UnconfirmedWriteIsNotReplicatedWithinTheBound) {
  testing::RedisServer primary;
  testing::RedisServer replica;
  attach(replica, primary);
  auto options = testing::client_options(primary);
  options.wait_timeout = 300ms;
  Client client(options);
  const Script script("return redis.call('INCR', KEYS[1])");
  // Confirmed while the replica acknowledges (a busy machine may miss one 300 ms bound).
  const auto first = Clock::now();
  while (!client.eval_replicated(script, {"n"}, {}).ok()) {
    ASSERT_LT(Clock::now() - first, 5s);
  }
  const auto before = std::stoll(client.command({"GET", "n"}).value().str);
  replica.pause();  // connected, never acknowledging
  const auto started = Clock::now();
  const auto reply = client.eval_replicated(script, {"n"}, {});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().kind, common::ErrorKind::Unavailable);
  EXPECT_EQ(reply.error().code, "not_replicated");
  EXPECT_GE(Clock::now() - started, 250ms);
  EXPECT_LT(Clock::now() - started, 800ms);  // the wait timeout plus a little, not more
  replica.resume();
  // The same connection keeps working, and confirms again once the replica acknowledges.
  auto again = client.eval_replicated(script, {"n"}, {});
  const auto resumed = Clock::now();
  while (!again.ok()) {
    ASSERT_LT(Clock::now() - resumed, 5s) << again.error().message;
    again = client.eval_replicated(script, {"n"}, {});
  }
  EXPECT_GE(again.value().integer, before + 2);
}

TEST(RedisClientTest, ForcedWaitWithoutReplicaFailsAndZeroDisables) {
  testing::RedisServer server;
  auto options = testing::client_options(server);
  options.wait_replicas = 1;
  options.wait_timeout = 100ms;
  const Script script("return redis.call('INCR', KEYS[1])");
  {
    Client client(options);
    const auto reply = client.eval_replicated(script, {"n"}, {});
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().code, "not_replicated");
  }
  options.wait_replicas = 0;
  Client client(options);
  EXPECT_TRUE(client.eval_replicated(script, {"n"}, {}).ok());
  // An error reply of the script is the reply, not "not_replicated".
  options.wait_replicas = 1;
  Client forced(options);
  const auto error = forced.eval_replicated(Script("return redis.error_reply('nope')"), {}, {});
  ASSERT_TRUE(error.ok());
  EXPECT_TRUE(error.value().is_error());
}

TEST(RedisClientTest, ReadonlyReplyDropsThePool) {
  testing::RedisServer primary;
  testing::RedisServer replica;
  attach(replica, primary);
  auto options = testing::client_options(replica);
  options.wait_replicas = 0;
  Client client(options);
  const auto write = client.command({"SET", "k", "v"});
  ASSERT_FALSE(write.ok()) << "a -READONLY reply is a failure of the call";
  EXPECT_EQ(write.error().kind, common::ErrorKind::Unavailable);
  // The node is promoted: the next calls (new connections) write.
  ASSERT_TRUE(Client(testing::client_options(replica)).command({"REPLICAOF", "NO", "ONE"}).ok());
  const auto started = Clock::now();
  while (!client.command({"SET", "k", "v"}).ok()) {
    ASSERT_LT(Clock::now() - started, 2s);
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace
}  // namespace kurz::redis
