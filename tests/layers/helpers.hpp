// Shared helpers for the layers tests: peer-tool gating, store snapshots,
// building small rootfs trees.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/support/tmp.hpp"

namespace kiln::test {

// Skips when a peer tool is absent, unless KILN_REQUIRE_PEERS is set (CI),
// where a missing peer is a failure rather than a silent skip.
#define KILN_NEED_TOOL(tool)                                                                 \
  do {                                                                                       \
    if (!::kiln::test::have_tool(tool)) {                                                    \
      if (std::getenv("KILN_REQUIRE_PEERS")) FAIL() << "peer tool " << (tool) << " missing"; \
      GTEST_SKIP() << (tool) << " not installed";                                            \
    }                                                                                        \
  } while (0)

#define KILN_NEED_ROOT()                                                       \
  do {                                                                         \
    if (::geteuid() != 0) {                                                    \
      if (std::getenv("KILN_REQUIRE_PEERS")) FAIL() << "this test needs root"; \
      GTEST_SKIP() << "needs root";                                            \
    }                                                                          \
  } while (0)

// Every file under `root` with its size and mode, one per line, sorted: two
// snapshots are equal when nothing was added, removed or rewritten in size.
std::string snapshot(const std::filesystem::path& root);

// A small rootfs: bin/busybox (from the busybox-static package when present,
// else a stand-in file), applet symlinks, etc/ files.
void make_busybox_rootfs(const std::filesystem::path& dir);

// Runs kiln with --root STORE and the given arguments.
RunResult kiln(const std::filesystem::path& store, std::vector<std::string> args);

}  // namespace kiln::test

namespace kiln::test {

// One line per object under `root` (root itself excluded), sorted: path,
// type, permission bits, owner, size, content hash or link target, xattrs,
// and (with `mtimes`) the mtime in nanoseconds. Equal strings, equal trees.
std::string describe_tree(const std::filesystem::path& root, bool mtimes = true);

}  // namespace kiln::test

namespace kiln::test {

// A tree with every kind of object a layer must carry: nested dirs, a sticky
// dir, setuid/setgid files, owners (root only), relative/absolute/dangling
// symlinks, a hardlink trio, a fifo, devices (root only), user xattrs and a
// file capability (root only), a sparse file, a socket (which layers skip),
// UTF-8 and long names, nanosecond mtimes. Directory mtimes are set last.
void make_rich_tree(const std::filesystem::path& dir);

// Paths of a layer blob's entries, in order (any compression).
std::vector<std::string> layer_paths(const std::filesystem::path& blob);

}  // namespace kiln::test
