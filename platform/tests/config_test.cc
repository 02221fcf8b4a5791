#include "kurz/platform/config.h"

#include <gtest/gtest.h>

#include <map>

#include "kurz/platform/cpus.h"

namespace kurz::platform {
namespace {

EnvLookup env_of(const std::map<std::string, std::string>& values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ConfigTest, DefaultsAreVisible) {
  EnvReader env(env_of({{"HOSTNAME", "box"}}));
  const auto config = load_service_config("monolith", env);
  env.finish();
  EXPECT_EQ(config.port, 8080);
  EXPECT_EQ(config.public_base_url, "http://localhost:8080");
  EXPECT_EQ(config.instance_id, "box");
  EXPECT_EQ(config.log_level, LogLevel::Info);
  EXPECT_TRUE(config.redis_url.empty());
}

TEST(ConfigTest, PortPrecedence) {
  {
    EnvReader env(env_of({{"PORT", "1"}, {"PORT0", "2"}, {"MONOLITH_PORT", "3"}}));
    EXPECT_EQ(load_service_config("monolith", env).port, 3);
  }
  {
    EnvReader env(env_of({{"PORT", "1"}, {"PORT0", "2"}}));
    EXPECT_EQ(load_service_config("monolith", env).port, 2);
  }
  {
    EnvReader env(env_of({{"PORT", "1"}}));
    EXPECT_EQ(load_service_config("links", env).port, 1);
  }
}

TEST(ConfigTest, MesosTaskIdWinsOverHostname) {
  EnvReader env(env_of({{"HOSTNAME", "box"}, {"MESOS_TASK_ID", "kurz_redirect.1234"}}));
  EXPECT_EQ(load_service_config("redirect", env).instance_id, "kurz_redirect.1234");
}

TEST(ConfigTest, EveryProblemIsReported) {
  EnvReader env(env_of({{"PORT", "99999"},
                        {"LOG_LEVEL", "loud"},
                        {"SHUTDOWN_DELAY_MS", "-5"},
                        {"PUBLIC_BASE_URL", "ftp://x"},
                        {"ACCESS_LOG", "maybe"}}));
  load_service_config("monolith", env);
  try {
    env.finish();
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    for (const char* name :
         {"PORT=", "LOG_LEVEL=", "SHUTDOWN_DELAY_MS=", "PUBLIC_BASE_URL=", "ACCESS_LOG="}) {
      EXPECT_NE(message.find(name), std::string::npos) << name << " missing in: " << message;
    }
  }
}

TEST(ConfigTest, HttpThreadsDefaultToTheCpuBudget) {
  const auto budget = cpu_budget();
  {
    EnvReader env(env_of({}));
    const auto config = load_service_config("monolith", env);
    EXPECT_EQ(config.http_threads, budget.cpus);
    EXPECT_EQ(config.http_threads_source, budget.source);
  }
  {
    EnvReader env(env_of({{"HTTP_THREADS", "3"}}));
    const auto config = load_service_config("monolith", env);
    env.finish();
    EXPECT_EQ(config.http_threads, 3u);
    EXPECT_EQ(config.http_threads_source, "HTTP_THREADS");
  }
  {
    EnvReader env(env_of({{"MARATHON_APP_RESOURCE_CPUS", "0.5"}}));
    const auto config = load_service_config("monolith", env);
    env.finish();
    EXPECT_EQ(config.http_threads, 1u);
    EXPECT_EQ(config.http_threads_source, cpu_budget(0.5).source);
    EXPECT_NE(config.http_threads_source.find("Marathon cpus 0.5"), std::string::npos);
  }
  {
    EnvReader env(env_of({{"MARATHON_APP_RESOURCE_CPUS", "lots"}}));  // Marathon's: ignored
    const auto config = load_service_config("monolith", env);
    env.finish();
    EXPECT_EQ(config.http_threads, budget.cpus);
  }
  {
    EnvReader env(env_of({{"HTTP_THREADS", "0"}}));
    load_service_config("monolith", env);
    EXPECT_THROW(env.finish(), ConfigError);
  }
}

TEST(ConfigTest, BaseUrlLosesTrailingSlash) {
  EnvReader env(env_of({{"PUBLIC_BASE_URL", "https://kurz.example/"}}));
  EXPECT_EQ(load_service_config("monolith", env).public_base_url, "https://kurz.example");
  env.finish();
}

}  // namespace
}  // namespace kurz::platform
