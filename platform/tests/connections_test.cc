// The connection bound's registry on real sockets (socket pairs): who is evicted, who never is.
#include "connections.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <prometheus/registry.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <thread>
#include <vector>

namespace kurz::platform {
namespace {

using namespace std::chrono_literals;

// One connection: the server's end (registered through a duplicate, as the server does) and the
// client's end, which sees EOF once the server's end is shut down.
struct Pair {
  Pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) throw std::runtime_error("socketpair");
    server = fds[0];
    client = fds[1];
  }
  ~Pair() {
    ::close(server);
    ::close(client);
  }
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;
  bool client_sees_eof() const {
    pollfd p{client, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    char byte;
    return ::recv(client, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }
  int server = -1;
  int client = -1;
  std::shared_ptr<ConnectionActivity> activity = std::make_shared<ConnectionActivity>();
};

class ConnectionsTest : public ::testing::Test {
 protected:
  // Registers pairs[i] under its own address; returns the outcome.
  Connections::Admitted admit(Pair& pair) {
    const int fd = connections_.duplicate(pair.server);
    EXPECT_GE(fd, 0);
    return connections_.admit(&pair, pair.activity, fd);
  }
  std::vector<std::unique_ptr<Pair>> make(int count) {
    std::vector<std::unique_ptr<Pair>> pairs;
    for (int i = 0; i < count; ++i) {
      pairs.push_back(std::make_unique<Pair>());
      std::this_thread::sleep_for(1ms);  // a clear order of activity
    }
    return pairs;
  }

  prometheus::Registry registry_;
  prometheus::Gauge& gauge_ = prometheus::BuildGauge().Name("open").Register(registry_).Add({});
  Connections connections_{3, &gauge_};
};

TEST_F(ConnectionsTest, BelowTheBoundEveryoneIsAdmitted) {
  auto pairs = make(3);
  for (auto& pair : pairs) EXPECT_EQ(admit(*pair), Connections::Admitted::Yes);
  EXPECT_EQ(connections_.size(), 3u);
  EXPECT_EQ(gauge_.Value(), 3);
  for (auto& pair : pairs) EXPECT_FALSE(pair->client_sees_eof());
}

TEST_F(ConnectionsTest, AtTheBoundTheLeastRecentlyActiveIdleOneIsShutDown) {
  auto pairs = make(5);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(admit(*pairs[i]), Connections::Admitted::Yes);
  pairs[0]->activity->touch();  // now pairs[1] is the least recently active
  EXPECT_EQ(admit(*pairs[3]), Connections::Admitted::Evicting);
  EXPECT_TRUE(pairs[1]->client_sees_eof());
  EXPECT_TRUE(pairs[1]->activity->evicted());
  EXPECT_FALSE(pairs[1]->activity->begin_request());  // takes no further request
  EXPECT_FALSE(pairs[0]->client_sees_eof());
  EXPECT_FALSE(pairs[2]->client_sees_eof());
  EXPECT_EQ(connections_.size(), 3u);
  EXPECT_EQ(admit(*pairs[4]), Connections::Admitted::Evicting);
  EXPECT_TRUE(pairs[2]->client_sees_eof());
  EXPECT_FALSE(pairs[0]->client_sees_eof());
  EXPECT_EQ(gauge_.Value(), 3);
}

TEST_F(ConnectionsTest, AConnectionBeingAnsweredIsNeverEvicted) {
  auto pairs = make(5);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(admit(*pairs[i]), Connections::Admitted::Yes);
  // The two oldest are being answered: the youngest idle one goes.
  ASSERT_TRUE(pairs[0]->activity->begin_request());
  ASSERT_TRUE(pairs[1]->activity->begin_request());
  EXPECT_EQ(admit(*pairs[3]), Connections::Admitted::Evicting);
  EXPECT_TRUE(pairs[2]->client_sees_eof());
  // Now all three are being answered: the new one is refused and nothing is shut down.
  ASSERT_TRUE(pairs[3]->activity->begin_request());
  EXPECT_EQ(admit(*pairs[4]), Connections::Admitted::Refused);
  for (int i : {0, 1, 3}) EXPECT_FALSE(pairs[i]->client_sees_eof()) << i;
  EXPECT_EQ(connections_.size(), 3u);
  // An answer out makes a connection evictable again (and its most recent activity).
  pairs[1]->activity->unanswered.fetch_sub(1);
  pairs[1]->activity->touch();
  EXPECT_EQ(admit(*pairs[4]), Connections::Admitted::Evicting);
  EXPECT_TRUE(pairs[1]->client_sees_eof());
}

TEST_F(ConnectionsTest, RemovedConnectionsFreeTheirPlaceAndAreNotShutDown) {
  auto pairs = make(4);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(admit(*pairs[i]), Connections::Admitted::Yes);
  connections_.remove(pairs[0].get());
  connections_.remove(pairs[0].get());  // onDisconnection, then the peer's destruction
  EXPECT_EQ(connections_.size(), 2u);
  EXPECT_EQ(admit(*pairs[3]), Connections::Admitted::Yes);
  for (auto& pair : pairs) EXPECT_FALSE(pair->client_sees_eof());
  EXPECT_EQ(gauge_.Value(), 3);
}

// The duplicate pins the socket: the original descriptor closed (as Pistache's timeouts do
// without telling the handler) and its number reused by another socket, eviction still shuts
// down the right socket and leaves the newcomer alone.
TEST_F(ConnectionsTest, EvictionReachesTheRightSocketAfterItsNumberIsReused) {
  auto pairs = make(3);
  for (auto& pair : pairs) ASSERT_EQ(admit(*pair), Connections::Admitted::Yes);
  const int number = pairs[0]->server;
  ::close(number);
  pairs[0]->server = -1;
  Pair newcomer;  // takes the lowest free numbers, among them the one just closed
  ASSERT_TRUE(newcomer.server == number || newcomer.client == number);
  Pair next;
  EXPECT_EQ(admit(next), Connections::Admitted::Evicting);
  EXPECT_TRUE(pairs[0]->client_sees_eof());
  EXPECT_FALSE(newcomer.client_sees_eof());
  pollfd p{newcomer.server, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0);  // nothing happened to either end of the newcomer
}

TEST_F(ConnectionsTest, DuplicatesLiveAboveTheAcceptedSockets) {
  Pair pair;
  const int fd = connections_.duplicate(pair.server);
  ASSERT_GE(fd, 0);
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur >= 2048) {
    EXPECT_GE(fd, 3 + 1024);  // max_connections + 1024
  }
  ::close(fd);
}

}  // namespace
}  // namespace kurz::platform
