// Runs a docker-credential helper (`docker-credential-NAME get`): the server
// URL goes to its stdin, JSON {ServerURL, Username, Secret} comes back. Its
// output holds a secret, so none of it ever reaches an error message except a
// short, secret-free reason from stderr.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/fd.hpp"
#include "oci/json.hpp"
#include "registry/keychain.hpp"

extern char** environ;

namespace kiln::registry {

namespace {

// How often the helper's exit is checked while its pipes are quiet.
constexpr int kExitCheckMs = 20;

bool valid_helper_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

}  // namespace

Result<std::optional<Credentials>> run_credential_helper(const std::string& name,
                                                         const std::string& server,
                                                         std::chrono::milliseconds timeout) {
  if (!valid_helper_name(name)) return fail("invalid credential helper name \"", name, "\"");
  std::string prog = "docker-credential-" + name;
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return fail_errno(errno, "pipe");
  Fd in_r(in[0]), in_w(in[1]);
  // kiln's end only: a write the pipe cannot take whole comes back short.
  ::fcntl(in_w.get(), F_SETFL, O_NONBLOCK);
  if (::pipe2(out, O_CLOEXEC) != 0) return fail_errno(errno, "pipe");
  Fd out_r(out[0]), out_w(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) return fail_errno(errno, "pipe");
  Fd err_r(err[0]), err_w(err[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_r.get(), 0);
  posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
  std::string get = "get";
  char* argv[] = {prog.data(), get.data(), nullptr};
  pid_t pid;
  int rc = ::posix_spawnp(&pid, prog.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  in_r.reset();
  out_w.reset();
  err_w.reset();
  if (rc != 0) return fail("credential helper ", prog, " cannot be run: ", std::strerror(rc));

  // The helper's end is seen by waitpid between polls of its pipes, not by
  // their closing: a helper that exits while a child of its own still holds
  // stdout is done, and one that closes its pipes and then hangs runs into
  // the deadline.
  std::string input = server + "\n", stdout_text, stderr_text;
  size_t in_pos = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0, poll_errno = 0, wait_errno = 0;
  bool timed_out = false, gone = false;
  while (!gone) {
    pollfd p[3] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}, {in_w.get(), POLLOUT, 0}};
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    // Rounded up: a wait of 0 for a deadline 0.3 ms away would spin.
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    int wait = static_cast<int>(std::min<long>(left.count(), kExitCheckMs));
    if (::poll(p, 3, wait) < 0 && errno != EINTR) {
      poll_errno = errno;
      break;
    }
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r < 0 && errno != EINTR) {  // reaped elsewhere (ECHILD): its status is lost
      wait_errno = errno;
      gone = true;
      break;
    }
    gone = r == pid;
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      Fd& fd = i == 0 ? out_r : err_r;
      std::string& text = i == 0 ? stdout_text : stderr_text;
      bool ready = p[i].revents & (POLLIN | POLLHUP | POLLERR);
      // Once the helper has exited, all it wrote is in the pipe, whether or not
      // this round's poll saw it: read until the pipe is empty, a pipe buffer's
      // worth at most (a child it left behind may still be writing).
      for (int reads = gone ? 16 : 1; fd && reads > 0; --reads) {
        if (!ready) {
          pollfd more{fd.get(), POLLIN, 0};
          if (!gone || ::poll(&more, 1, 0) <= 0) break;
        }
        ready = false;
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n <= 0)
          fd.reset();
        else if (text.size() < (1 << 20))
          text.append(buf, static_cast<size_t>(n));
      }
    }
    if (in_w && !gone && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      // A helper that never reads its stdin must not end kiln by SIGPIPE.
      sigset_t pipe_sig, old;
      sigemptyset(&pipe_sig);
      sigaddset(&pipe_sig, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe_sig, &old);
      ssize_t n = ::write(in_w.get(), input.data() + in_pos, input.size() - in_pos);
      int write_errno = errno;
      // Raised with EPIPE, and also with a short write cut off by the close.
      sigset_t pending;
      if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        timespec now{};
        sigtimedwait(&pipe_sig, nullptr, &now);
      }
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      if (n > 0) in_pos += static_cast<size_t>(n);
      if ((n < 0 && write_errno != EAGAIN) || in_pos == input.size()) in_w.reset();
    }
  }
  if (!gone) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (timed_out) {
    std::string secs = std::to_string(timeout.count() / 1000);
    if (timeout.count() % 1000) {
      secs += '.';
      secs += std::to_string(timeout.count() % 1000 / 100);
    }
    return fail("credential helper ", prog, " did not answer within ", secs, "s");
  }
  if (poll_errno || wait_errno)
    return fail_errno(poll_errno ? poll_errno : wait_errno,
                      "waiting for credential helper " + prog);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string all = stdout_text + stderr_text;
    if (all.find("credentials not found") != std::string::npos) return std::optional<Credentials>();
    std::string reason = stderr_text.substr(0, stderr_text.find('\n')).substr(0, 160);
    return fail("credential helper ", prog, " failed for ", server,
                reason.empty() ? "" : ": " + reason);
  }
  auto j = oci::parse_untrusted_json(stdout_text);
  if (j.is_discarded() || !j.is_object())
    return fail("credential helper ", prog, " returned something that is not JSON");
  Credentials c;
  auto str = [&](const char* k) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
  };
  std::string user = str("Username"), secret = str("Secret");
  if (user == "<token>")
    c.identity_token = secret;
  else {
    c.username = user;
    c.password = secret;
  }
  if (c.empty()) return std::optional<Credentials>();
  return std::optional<Credentials>(c);
}

}  // namespace kiln::registry
