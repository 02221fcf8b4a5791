#include "kurz/platform/router.h"

#include <algorithm>
#include <stdexcept>

namespace kurz::platform {
namespace {

struct Segment {
  bool is_param = false;
  std::string text;    // the literal, or the parameter's name
  std::string suffix;  // literal suffix of a parameter (":code.svg" -> ".svg")
};

struct CompiledRoute {
  Route route;
  std::vector<Segment> segments;
};

// Splits "/a/b" into {"a", "b"}; "/" into {}. Returns false for paths that are not absolute or
// that hold an empty segment ("//", a trailing '/'), which no route matches.
bool split_path(std::string_view path, std::vector<std::string_view>& out) {
  out.clear();
  if (path.empty() || path.front() != '/') return false;
  if (path.size() == 1) return true;
  std::size_t start = 1;
  while (true) {
    const auto slash = path.find('/', start);
    const auto segment = path.substr(start, slash - start);
    if (segment.empty()) return false;
    out.push_back(segment);
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

std::vector<Segment> compile(const std::string& path_template) {
  std::vector<std::string_view> parts;
  if (!split_path(path_template, parts)) {
    throw std::invalid_argument("route template must be absolute without empty segments: " +
                                path_template);
  }
  std::vector<Segment> segments;
  for (const auto part : parts) {
    Segment segment;
    if (part.front() == ':') {
      segment.is_param = true;
      const auto dot = part.find('.');
      segment.text = std::string(part.substr(1, dot == std::string_view::npos ? dot : dot - 1));
      if (dot != std::string_view::npos) segment.suffix = std::string(part.substr(dot));
      if (segment.text.empty()) {
        throw std::invalid_argument("route parameter without a name: " + path_template);
      }
    } else {
      segment.text = std::string(part);
    }
    segments.push_back(std::move(segment));
  }
  return segments;
}

// Matches path segments against a route; fills params on success.
bool match_segments(const CompiledRoute& route, const std::vector<std::string_view>& parts,
                    Request::Params* params) {
  if (route.segments.size() != parts.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& segment = route.segments[i];
    auto part = parts[i];
    if (!segment.is_param) {
      if (part != segment.text) return false;
      continue;
    }
    if (!segment.suffix.empty()) {
      if (part.size() <= segment.suffix.size() ||
          part.substr(part.size() - segment.suffix.size()) != segment.suffix) {
        return false;
      }
      part.remove_suffix(segment.suffix.size());
    }
    if (params != nullptr) {
      auto decoded = percent_decode(part, false);
      if (!decoded) return false;
      params->emplace_back(segment.text, std::move(*decoded));
    }
  }
  return true;
}

// The routes' order: by segment count (templates of different lengths never match the same path),
// then literal segments before parameters, left to right: "/api/links" beats "/:code/links".
bool more_specific(const CompiledRoute& a, const CompiledRoute& b) {
  if (a.segments.size() != b.segments.size()) return a.segments.size() < b.segments.size();
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    if (a.segments[i].is_param != b.segments[i].is_param) return !a.segments[i].is_param;
    if (a.segments[i].suffix.size() != b.segments[i].suffix.size()) {
      return a.segments[i].suffix.size() > b.segments[i].suffix.size();
    }
  }
  return false;
}

}  // namespace

struct Router::Impl {
  std::vector<CompiledRoute> routes;
};

Router::Router() : impl_(std::make_unique<Impl>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::add(Method method, std::string path_template, Handler handler) {
  for (const auto& existing : impl_->routes) {
    if (existing.route.method == method && existing.route.path_template == path_template) {
      throw std::invalid_argument("duplicate route: " + std::string(to_string(method)) + " " +
                                  path_template);
    }
  }
  auto segments = compile(path_template);
  impl_->routes.push_back(CompiledRoute{Route{method, std::move(path_template), std::move(handler)},
                                        std::move(segments)});
  // Most specific first, so that the first matching template is the one to use.
  std::stable_sort(impl_->routes.begin(), impl_->routes.end(), more_specific);
}

Router::Match Router::match(Method method, std::string_view path) const {
  Match result;
  thread_local std::vector<std::string_view> parts;
  if (!split_path(path, parts)) return result;

  const CompiledRoute* best = nullptr;
  for (const auto& route : impl_->routes) {
    if (best != nullptr && route.route.path_template != best->route.path_template) {
      if (more_specific(*best, route)) break;
      continue;
    }
    if (best == nullptr && !match_segments(route, parts, nullptr)) continue;
    best = &route;
    const bool same_method = route.route.method == method ||
                             (method == Method::Head && route.route.method == Method::Get);
    if (same_method) {
      result.kind = Match::Kind::Found;
      result.route = &route.route;
      if (!match_segments(route, parts, &result.params)) {
        // A parameter with an invalid %-escape: no resource can have that name.
        result = Match{};
      }
      return result;
    }
    result.allowed.push_back(route.route.method);
  }
  if (best != nullptr) result.kind = Match::Kind::MethodNotAllowed;
  return result;
}

std::vector<const Route*> Router::routes() const {
  std::vector<const Route*> out;
  out.reserve(impl_->routes.size());
  for (const auto& route : impl_->routes) out.push_back(&route.route);
  return out;
}

}  // namespace kurz::platform
