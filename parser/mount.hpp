// RUN --mount: the CSV option list BuildKit accepts, expanded and validated.
//
// BuildKit reads --mount twice: when parsing it only checks the CSV syntax
// and that from= has no variable; every other check waits until the stage
// is built, with variables expanded. check_mount_syntax() and parse_mount()
// are those two steps, so a bad option in a stage the target does not need
// is not an error, as with docker build. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace kiln::parser {

struct Mount {
  std::string type = "bind";  // bind | cache | tmpfs | secret | ssh
  std::string from;           // stage or image (bind, cache)
  std::string source;
  std::string target;  // may be empty: secret and ssh have defaults
  bool readonly = true;
  int64_t size_limit = 0;          // tmpfs size=, in bytes
  std::string id;                  // cache / secret / ssh id
  std::string sharing;             // cache: shared | private | locked ("" = shared)
  bool required = false;           // secret, ssh
  std::optional<std::string> env;  // secret: expose as this variable
  std::optional<uint32_t> mode, uid, gid;
};

using WordExpander = std::function<Result<std::string>(std::string_view)>;

// The parse-time checks. Errors are bare messages (no location).
Status check_mount_syntax(std::string_view spec);
// The `from=` of a mount as written (no expansion), or "".
std::string mount_from(std::string_view spec);
// The full reading, each value passed through `expand`.
Result<Mount> parse_mount(std::string_view spec, const WordExpander& expand);

// The spec with each value passed through `expand` (for display).
Result<std::string> expand_mount_spec(std::string_view spec, const WordExpander& expand);

// docker/go-units RAMInBytes: "64m", "1.5GiB", "512" (binary multiples).
Result<int64_t> parse_ram_size(std::string_view s);

}  // namespace kiln::parser
