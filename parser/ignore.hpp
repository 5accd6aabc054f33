// .dockerignore / .containerignore: which context paths a build leaves out.
//
// Docker's semantics exactly (moby/patternmatcher + BuildKit's context
// walk): one pattern per line, `#` comments, surrounding space trimmed,
// `!` re-includes, patterns cleaned like Go's filepath.Clean with a leading
// `/` dropped; Go filepath.Match syntax (`*` `?` `[...]` `\`) plus `**` for
// any number of directories; later patterns win; a pattern that matches a
// directory excludes everything under it (a parent match counts).
//
// Thread-safety: an IgnoreMatcher is immutable after create(); match calls
// may run concurrently.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace kiln::parser {

// One line of an ignore file, cleaned: "!" prefix kept for exceptions.
struct IgnoreLine {
  std::string pattern;
  int line = 0;
};

// ignorefile.ReadAll: comments and blank lines dropped, BOM stripped.
std::vector<IgnoreLine> read_ignore_lines(std::string_view text);

class IgnoreMatcher {
 public:
  IgnoreMatcher();  // matches nothing
  ~IgnoreMatcher();
  IgnoreMatcher(IgnoreMatcher&&) noexcept;
  IgnoreMatcher& operator=(IgnoreMatcher&&) noexcept;

  // patternmatcher.New. `source` names the file in error messages.
  static Result<IgnoreMatcher> create(const std::vector<IgnoreLine>& lines,
                                      std::string_view source = ".dockerignore");
  static Result<IgnoreMatcher> create(const std::vector<std::string>& patterns);

  // MatchesOrParentMatches: is `path` (relative, '/'-separated) excluded?
  bool matches(std::string_view path) const;

  // MatchesUsingParentResults, for a top-down walk: `parent` holds the
  // per-pattern results of the parent directory (empty for top-level paths);
  // `out` receives this path's, to pass to its children.
  using PerPattern = std::vector<bool>;
  bool matches(std::string_view path, const PerPattern& parent, PerPattern& out) const;

  // For an excluded directory: must the walk still read it, because an
  // exception could re-include something inside? (BuildKit's rule: only
  // when some exception pattern could apply, judged by its literal prefix.)
  bool must_descend(std::string_view dir) const;

  bool empty() const;
  bool has_exceptions() const;
  size_t size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The ignore file a build of `containerfile` in `context` uses, first found:
// <containerfile>.containerignore, <containerfile>.dockerignore (beside it),
// <context>/.containerignore, <context>/.dockerignore.
std::optional<std::filesystem::path> find_ignore_file(const std::filesystem::path& context,
                                                      const std::filesystem::path& containerfile);

// find_ignore_file + read + create; an empty matcher when there is none.
// `used` receives the file's path ("" when none).
Result<IgnoreMatcher> load_ignore_file(const std::filesystem::path& context,
                                       const std::filesystem::path& containerfile,
                                       std::string* used = nullptr);

}  // namespace kiln::parser
