#pragma once
// The stage 1 monolith in-process on port 0, with a manual clock, for HTTP tests.

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "http_client.h"
#include "kurz/common/clock.h"
#include "kurz/monolith/monolith.h"
#include "kurz/platform/server.h"

namespace kurz::testing {

class MonolithTest : public ::testing::Test {
 protected:
  static constexpr const char* kBaseUrl = "http://kurz.test";
  static constexpr std::size_t kMaxRequestBytes = 16 * 1024;

  void SetUp() override { start(""); }

  void start(const std::string& api_key, links::RateLimit limit = {0, std::chrono::minutes(1)}) {
    server_.reset();
    monolith_.reset();
    backend_ = std::make_unique<monolith::MemoryBackend>(limit, clock_);
    metrics_ = std::make_unique<platform::Metrics>("monolith", "test", "1");
    health_ = std::make_unique<health::Registry>();
    monolith_ = std::make_unique<monolith::Monolith>(monolith::Settings{kBaseUrl, api_key, limit},
                                                     clock_, *metrics_, backend_->backend());
    platform::Router router;
    monolith_->add_routes(router);
    platform::ServerOptions options;
    options.service = "monolith";
    options.version = "test";
    options.stage = "1";
    options.instance_id = "test-instance";
    options.threads = 2;
    options.max_request_bytes = kMaxRequestBytes;
    options.access_log = false;
    server_ = std::make_unique<platform::Server>(options, std::move(router), *metrics_, *health_);
    server_->start();
  }

  std::uint16_t port() const { return server_->port(); }

  HttpResponse get(const std::string& target, const Headers& headers = {}) {
    return http(port(), "GET", target, "", headers);
  }
  HttpResponse post_json(const std::string& target, const std::string& body,
                         const Headers& headers = {{"Content-Type", "application/json"}}) {
    return http(port(), "POST", target, body, headers);
  }
  // Creates a link and returns its JSON; fails the test if it is not 201.
  nlohmann::json create(const nlohmann::json& body) {
    const auto response = post_json("/api/links", body.dump());
    EXPECT_EQ(response.status, 201) << response.body;
    return nlohmann::json::parse(response.body, nullptr, false);
  }
  static std::string error_code(const HttpResponse& response) {
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return "";
    return body["error"].value("code", "");
  }

  common::ManualClock clock_{common::TimePoint(std::chrono::hours(24 * 20000))};
  std::unique_ptr<platform::Metrics> metrics_;
  std::unique_ptr<health::Registry> health_;
  std::unique_ptr<monolith::MemoryBackend> backend_;
  std::unique_ptr<monolith::Monolith> monolith_;
  std::unique_ptr<platform::Server> server_;
};

}  // namespace kurz::testing
