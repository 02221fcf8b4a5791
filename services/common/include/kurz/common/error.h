#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace kurz::common {

// What kind of failure an Error is. Transports map kinds to status codes in one place
// (Invalid → 400, NotFound → 404, Conflict → 409, Gone → 410, Unavailable → 503, Internal → 500).
enum class ErrorKind { Invalid, NotFound, Conflict, Gone, Unavailable, Internal };

// "invalid", "not_found", ... — for logs and metrics labels.
std::string_view to_string(ErrorKind kind);

// A failure as a value. `code` is a stable snake_case identifier that clients may match on
// (e.g. "invalid_url", "slug_taken", "not_found"); `message` is one human sentence that is safe
// to show to users (it never carries internal details).
struct Error {
  ErrorKind kind = ErrorKind::Internal;
  std::string code;
  std::string message;
};

// Either a T or an Error. Implicitly constructible from both, so functions simply
// `return value;` or `return Error{...};`. Calling value() on an error (or error() on a value)
// is a programmer error and throws std::bad_variant_access.
template <class T>
class Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Success without a value, or an Error.
template <>
class Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_.value(); }

 private:
  std::optional<Error> error_;
};

}  // namespace kurz::common
