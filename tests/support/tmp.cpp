#include "tests/support/tmp.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <spawn.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace kiln::test {

namespace fs = std::filesystem;

Scratch::Scratch() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/kiln-test-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

Scratch::~Scratch() {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(path_, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::remove_all(path_, ec);
}

namespace {

// Runs argv with out[1] as its stdout, reading out[0]; takes both fds.
RunResult run_with_stdout(const std::vector<std::string>& argv, const std::string& input,
                          int out[2]) {
  int in[2], err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  RunResult r;
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    r.status = 127;
    r.err = "spawn " + argv[0] + " failed";
    return r;
  }
  // Feed stdin while draining both outputs, so large outputs never deadlock.
  size_t in_pos = 0;
  if (input.empty()) {
    ::close(in[1]);
    in[1] = -1;
  }
  int open_outputs = 2;
  char buf[65536];
  while (open_outputs > 0 || in[1] >= 0) {
    pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
    ::poll(fds, 3, -1);
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        (i == 0 ? out[0] : err[0]) = -1;
        --open_outputs;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
    if (in[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = ::write(in[1], input.data() + in_pos, input.size() - in_pos);
      if (n > 0) in_pos += static_cast<size_t>(n);
      if (n < 0 || in_pos == input.size()) {
        ::close(in[1]);
        in[1] = -1;
      }
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const std::string& input) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC)) throw std::runtime_error("pipe failed");
  return run_with_stdout(argv, input, out);
}

RunResult run_on_terminal(const std::vector<std::string>& argv) {
  int out[2];
  termios raw{};
  ::cfmakeraw(&raw);
  ::cfsetspeed(&raw, B38400);
  if (::openpty(&out[0], &out[1], nullptr, &raw, nullptr))
    throw std::runtime_error("openpty failed");
  ::fcntl(out[0], F_SETFD, FD_CLOEXEC);
  ::fcntl(out[1], F_SETFD, FD_CLOEXEC);
  // Once the command and every copy of the terminal's end are gone, reading
  // the master side fails with EIO: the end of its output.
  return run_with_stdout(argv, "", out);
}

RunResult sh(const std::string& script) {
  return run({"/bin/sh", "-c", script});
}

std::string kiln_bin() {
  return KILN_BIN;
}

bool have_tool(const std::string& name) {
  return sh("command -v " + name + " >/dev/null 2>&1").status == 0;
}

void write_text(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f << content;
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace kiln::test
