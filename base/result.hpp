// Result and Error: how every library function in kiln reports failure.
//
// Library code never throws; it returns Result<T>. An Error carries one
// human-readable message plus a context chain (outermost last), and for
// registry failures the HTTP status and OCI error code. `what()` renders the
// single line the CLI prints: "context: context: message".
//
// Thread-safety: plain values, no shared state.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace kiln {

struct Error {
  std::string message;
  std::vector<std::string> context;  // innermost first
  int http_status = 0;               // registry errors only
  std::string code;                  // OCI error code (e.g. "BLOB_UNKNOWN"), or ""
  int sys_errno = 0;                 // errno when the failure came from a syscall

  // The one-line rendering: outermost context first, then the message.
  std::string what() const;
};

// Helpers so fail() accepts strings, string_views, chars and integers.
inline std::string to_string_piece(const std::string& s) {
  return s;
}
inline std::string to_string_piece(std::string_view s) {
  return std::string(s);
}
inline std::string to_string_piece(const char* s) {
  return s;
}
inline std::string to_string_piece(char c) {
  return std::string(1, c);
}
template <class I>
requires std::is_integral_v<I> std::string to_string_piece(I i) {
  return std::to_string(i);
}

template <class T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

// Build an error value: `return fail("blob ", d, " is truncated");`
template <class... Args>
tl::unexpected<Error> fail(Args&&... parts) {
  std::string msg;
  (msg.append(to_string_piece(std::forward<Args>(parts))), ...);
  return tl::unexpected<Error>(Error{std::move(msg), {}, 0, {}, 0});
}

// Same, with errno recorded and strerror appended: "open foo: No such file".
tl::unexpected<Error> fail_errno(int err, std::string msg);

// Adds a context line to an error ("reading index.json").
Error with_context(Error e, std::string ctx);

}  // namespace kiln

// TRY(expr): evaluate a Result; on error return it from the enclosing function.
// TRY_ASSIGN(var, expr): same, binding the value on success. It expands to
// several statements (it declares `var` in the enclosing scope), so put braces
// around it under an `if`.
#define KILN_CONCAT_INNER(a, b) a##b
#define KILN_CONCAT(a, b) KILN_CONCAT_INNER(a, b)
#define TRY(expr)                                                                         \
  do {                                                                                    \
    auto&& kiln_try_r = (expr);                                                           \
    if (!kiln_try_r) return tl::unexpected<::kiln::Error>(std::move(kiln_try_r).error()); \
  } while (0)
#define TRY_ASSIGN_IMPL(tmp, var, expr)                                   \
  auto tmp = (expr);                                                      \
  if (!tmp) return tl::unexpected<::kiln::Error>(std::move(tmp).error()); \
  var = std::move(*tmp)
// __COUNTER__ is expanded once, as an argument, so the temporary's name is the
// same in every place the expansion uses it (even when the call spans lines).
#define TRY_ASSIGN_N(n, var, expr) TRY_ASSIGN_IMPL(KILN_CONCAT(kiln_try_, n), var, expr)
#define TRY_ASSIGN(var, expr) TRY_ASSIGN_N(__COUNTER__, var, expr)
// TRY_CTX(expr, "doing x"): like TRY, adding a context line to the error.
#define TRY_CTX(expr, ctx)                                             \
  do {                                                                 \
    auto&& kiln_try_r = (expr);                                        \
    if (!kiln_try_r)                                                   \
      return tl::unexpected<::kiln::Error>(                            \
          ::kiln::with_context(std::move(kiln_try_r).error(), (ctx))); \
  } while (0)
