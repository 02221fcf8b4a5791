#pragma once
// Routes requests to handlers by method and path template.
//
// Templates are '/'-separated segments; a segment is a literal ("api"), a parameter (":code"),
// or a parameter with a literal suffix (":code.svg"). Literal segments win over parameters, so
// "/api/links" is never taken for "/:code". A path that matches a template under another method
// gives MethodNotAllowed with the allowed methods, which the server answers with 405 and Allow.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kurz/platform/http.h"

namespace kurz::platform {

using Handler = std::function<Reply(const Request&)>;

struct Route {
  Method method;
  std::string path_template;  // also the metrics label: bounded cardinality
  Handler handler;
};

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Registers a route. Throws std::invalid_argument on a malformed template or a duplicate
  // (method, template): both are programming errors found at start-up.
  void add(Method method, std::string path_template, Handler handler);
  void get(std::string path_template, Handler handler) {
    add(Method::Get, std::move(path_template), std::move(handler));
  }
  void post(std::string path_template, Handler handler) {
    add(Method::Post, std::move(path_template), std::move(handler));
  }
  void del(std::string path_template, Handler handler) {
    add(Method::Delete, std::move(path_template), std::move(handler));
  }

  struct Match {
    enum class Kind { Found, NotFound, MethodNotAllowed } kind = Kind::NotFound;
    const Route* route = nullptr;  // when Found
    Request::Params params;        // when Found
    std::vector<Method> allowed;   // when MethodNotAllowed
  };

  // Thread-safe once all routes are added (it only reads).
  Match match(Method method, std::string_view path) const;

  std::vector<const Route*> routes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kurz::platform
