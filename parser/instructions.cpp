// Node → typed instruction, with BuildKit's flag sets, argument counts and
// messages (the checks happen in the same order, so the same error wins).
#include "parser/instructions.hpp"

#include <array>

#include "parser/flags.hpp"
#include "parser/line_args.hpp"
#include "parser/mount.hpp"
#include "parser/text.hpp"

namespace kiln::parser {

namespace {

constexpr std::array<std::string_view, 18> kNames = {
    "FROM",  "RUN",        "CMD",    "ENTRYPOINT", "SHELL",      "ENV",
    "LABEL", "MAINTAINER", "EXPOSE", "ADD",        "COPY",       "VOLUME",
    "USER",  "WORKDIR",    "ARG",    "ONBUILD",    "STOPSIGNAL", "HEALTHCHECK"};

using detail::Flags;

std::vector<std::string> names_lower() {
  std::vector<std::string> out;
  for (auto n : kNames)
    out.push_back(text::to_lower(n));
  return out;
}

Status at_least_one(const Node& n) {
  if (n.args.empty()) return fail(n.name(), " requires at least one argument");
  return {};
}
Status exactly_one(const Node& n) {
  if (n.args.size() != 1) return fail(n.name(), " requires exactly one argument");
  return {};
}

CommandLine command_line(const Node& n, std::vector<std::string> args) {
  CommandLine c;
  c.exec = n.json;
  if (n.json || args.empty())
    c.args = std::move(args);
  else {
    std::string joined;
    for (size_t i = 0; i < args.size(); ++i)
      joined += (i ? " " : "") + args[i];
    c.args = {std::move(joined)};
  }
  c.heredocs = n.heredocs;
  return c;
}

Result<std::vector<KeyValue>> key_values(const Node& n) {
  if (n.pairs.empty()) return fail(n.name(), " requires at least one argument");
  for (const KeyValue& kv : n.pairs)
    if (kv.key.empty()) return fail(n.name(), " names can not be blank");
  return n.pairs;
}

// COPY/ADD: the last argument is the destination; `<<NAME` sources are
// inline files whose bodies come from the instruction's heredocs.
Status sources_and_dest(const Node& n, std::vector<std::string>& sources,
                        std::vector<SourceContent>& contents, std::string& dest) {
  dest = n.args.back();
  auto dh = detail::parse_heredoc_word(dest);
  if (dh && *dh) return fail(n.name(), " cannot accept a heredoc as a destination");
  for (size_t i = 0; i + 1 < n.args.size(); ++i) {
    const std::string& src = n.args[i];
    auto h = detail::parse_heredoc_word(src);
    if (h && *h) {
      SourceContent sc;
      sc.path = (*h)->name;
      sc.expand = (*h)->expand;
      for (const Heredoc& doc : n.heredocs)
        if (doc.name == (*h)->name) {
          Heredoc body = doc;
          body.chomp = (*h)->chomp;
          sc.data = body.chomped();
        }
      contents.push_back(std::move(sc));
    } else {
      sources.push_back(src);
    }
  }
  return {};
}

Result<int64_t> interval(const Flags& f, std::string_view name) {
  const std::string& v = f.str(name);
  if (v.empty()) return 0;
  TRY_ASSIGN(int64_t d, parse_go_duration(v));
  if (d < 1000000) return fail("Interval \"", name, "\" cannot be less than 1ms");
  return d;
}

Result<InstructionData> healthcheck(const Node& n, Flags& flags) {
  TRY(at_least_one(n));
  HealthcheckData h;
  std::string type = text::to_upper(n.args[0]);
  std::vector<std::string> rest(n.args.begin() + 1, n.args.end());
  if (type == "NONE") {
    if (!rest.empty()) return fail("HEALTHCHECK NONE takes no arguments");
    h.test = {"NONE"};
    return h;
  }
  for (const char* name : {"interval", "timeout", "start-period", "start-interval", "retries"})
    flags.add_string(name);
  TRY(flags.parse());
  if (type != "CMD") return fail("Unknown type \"", type, "\" in HEALTHCHECK (try CMD)");
  CommandLine cmd = command_line(n, rest);
  if (cmd.args.empty()) return fail("Missing command after HEALTHCHECK CMD");
  h.test.push_back(n.json ? "CMD" : "CMD-SHELL");
  h.test.insert(h.test.end(), cmd.args.begin(), cmd.args.end());
  TRY_ASSIGN(h.interval_ns, interval(flags, "interval"));
  TRY_ASSIGN(h.timeout_ns, interval(flags, "timeout"));
  TRY_ASSIGN(h.start_period_ns, interval(flags, "start-period"));
  TRY_ASSIGN(h.start_interval_ns, interval(flags, "start-interval"));
  if (const std::string& r = flags.str("retries"); !r.empty()) {
    long long v = 0;
    size_t i = (r[0] == '-' || r[0] == '+') ? 1 : 0;
    bool ok = i < r.size();
    for (; ok && i < r.size(); ++i) {
      if (r[i] < '0' || r[i] > '9')
        ok = false;
      else if ((v = v * 10 + (r[i] - '0')) > 0x7FFFFFFFLL + 1)
        ok = false;
    }
    if (r[0] == '-') v = -v;
    if (!ok || v > 0x7FFFFFFFLL || v < -0x80000000LL)
      return fail("strconv.ParseInt: parsing ", text::go_quote(r), ": invalid syntax");
    if (v < 0) return fail("--retries cannot be negative (", std::to_string(v), ")");
    h.retries = static_cast<int>(v);
  }
  return h;
}

Result<InstructionData> typed(Kind kind, const Node& n, Flags& flags, std::string_view filename) {
  switch (kind) {
    case Kind::from: {
      FromData d;
      if (n.args.size() == 3 && text::iequals(n.args[1], "as")) {
        d.stage_name = text::to_lower(n.args[2]);
        const std::string& s = d.stage_name;
        bool ok = !s.empty() && s[0] >= 'a' && s[0] <= 'z';
        for (char c : s)
          ok &=
              (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok)
          return fail("invalid name for build stage: ", text::go_quote(n.args[2]),
                      ", name can't start with a number or contain symbols");
      } else if (n.args.size() != 1) {
        return fail("FROM requires either one or three arguments");
      }
      flags.add_string("platform");
      TRY(flags.parse());
      d.base = n.args[0];
      d.platform = flags.str("platform");
      return d;
    }
    case Kind::run: {
      flags.add_strings("mount");
      flags.add_string("network", "default");
      flags.add_string("security", "sandbox");
      TRY(flags.parse());
      RunData d;
      d.command = command_line(n, n.args);
      d.mounts = flags.strings("mount");
      for (const std::string& m : d.mounts)
        TRY(check_mount_syntax(m));
      d.network = flags.str("network");
      if (d.network != "default" && d.network != "none" && d.network != "host")
        return fail("unsupported network mode ", text::go_quote(d.network));
      d.security = flags.str("security");
      if (d.security != "sandbox" && d.security != "insecure")
        return fail("unsupported security mode ", text::go_quote(d.security));
      return d;
    }
    case Kind::cmd:
      TRY(flags.parse());
      return CmdData{command_line(n, n.args)};
    case Kind::entrypoint:
      TRY(flags.parse());
      return EntrypointData{command_line(n, n.args)};
    case Kind::shell:
      TRY(flags.parse());
      if (n.args.empty()) return fail("SHELL requires at least one argument");
      if (!n.json) return fail("SHELL requires the arguments to be in JSON form");
      return ShellData{n.args};
    case Kind::env: {
      TRY(flags.parse());
      TRY_ASSIGN(auto kvs, key_values(n));
      return EnvData{std::move(kvs)};
    }
    case Kind::label: {
      TRY(flags.parse());
      TRY_ASSIGN(auto kvs, key_values(n));
      return LabelData{std::move(kvs)};
    }
    case Kind::maintainer:
      TRY(exactly_one(n));
      TRY(flags.parse());
      return MaintainerData{n.args[0]};
    case Kind::expose:
      TRY(at_least_one(n));
      TRY(flags.parse());
      return ExposeData{n.args};
    case Kind::add: {
      if (n.args.size() < 2)
        return fail(
            "ADD requires at least two arguments, but only one was provided. "
            "Destination could not be determined");
      flags.add_strings("exclude");
      flags.add_string("chown");
      flags.add_string("chmod");
      flags.add_bool("link");
      flags.add_bool("keep-git-dir");
      flags.add_string("checksum");
      flags.add_bool("unpack");
      TRY(flags.parse());
      AddData d;
      TRY(sources_and_dest(n, d.sources, d.contents, d.dest));
      d.excludes = flags.strings("exclude");
      d.chown = flags.str("chown");
      d.chmod = flags.str("chmod");
      d.link = flags.boolean("link");
      d.keep_git_dir = flags.boolean("keep-git-dir");
      d.checksum = flags.str("checksum");
      if (flags.used("unpack")) d.unpack = flags.boolean("unpack");
      return d;
    }
    case Kind::copy: {
      if (n.args.size() < 2)
        return fail(
            "COPY requires at least two arguments, but only one was provided. "
            "Destination could not be determined");
      flags.add_strings("exclude");
      flags.add_bool("parents");
      flags.add_string("chown");
      flags.add_string("from");
      flags.add_string("chmod");
      flags.add_bool("link");
      TRY(flags.parse());
      CopyData d;
      TRY(sources_and_dest(n, d.sources, d.contents, d.dest));
      d.excludes = flags.strings("exclude");
      d.parents = flags.boolean("parents");
      d.chown = flags.str("chown");
      d.from = flags.str("from");
      d.chmod = flags.str("chmod");
      d.link = flags.boolean("link");
      return d;
    }
    case Kind::volume: {
      TRY(at_least_one(n));
      TRY(flags.parse());
      VolumeData d;
      for (const std::string& v : n.args) {
        std::string_view t = text::trim_space(v);
        if (t.empty()) return fail("VOLUME specified can not be an empty string");
        d.paths.emplace_back(t);
      }
      return d;
    }
    case Kind::user:
      TRY(exactly_one(n));
      TRY(flags.parse());
      return UserData{n.args[0]};
    case Kind::workdir:
      TRY(exactly_one(n));
      TRY(flags.parse());
      return WorkdirData{n.args[0]};
    case Kind::stopsignal:
      TRY(exactly_one(n));
      return StopSignalData{n.args[0]};
    case Kind::arg: {
      if (n.args.empty()) return fail("ARG requires at least one argument");
      ArgData d;
      for (const std::string& a : n.args) {
        size_t eq = a.find('=');
        if (eq == 0) return fail("ARG names can not be blank");
        if (eq == std::string::npos)
          d.args.push_back({a, std::nullopt});
        else
          d.args.push_back({a.substr(0, eq), a.substr(eq + 1)});
      }
      return d;  // BuildKit never checks flags on ARG (nor on STOPSIGNAL)
    }
    case Kind::onbuild: {
      if (n.trigger.empty()) return fail("ONBUILD requires at least one argument");
      TRY(flags.parse());
      const Node& t = n.trigger[0];
      std::string trig = t.name();
      if (trig == "ONBUILD") return fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (trig == "MAINTAINER" || trig == "FROM")
        return fail(trig, " isn't allowed as an ONBUILD trigger");
      OnbuildData d;
      // The image config keeps the line without "ONBUILD", heredoc bodies appended.
      std::string_view orig = text::trim_left_space(n.original);
      size_t k = 0;
      while (k < orig.size() && !text::is_space_byte(static_cast<unsigned char>(orig[k])))
        ++k;
      d.expression = std::string(text::trim_left_space(orig.substr(k)));
      for (const Heredoc& h : n.heredocs)
        d.expression += "\n" + h.content + h.name;
      Node child = t;
      child.line = n.line, child.end_line = n.end_line, child.heredocs = n.heredocs;
      if (auto ti = to_instruction(child, filename))
        d.trigger = std::make_shared<const Instruction>(std::move(*ti));
      return d;
    }
    case Kind::healthcheck:
      return healthcheck(n, flags);
  }
  return fail("unknown instruction");
}

}  // namespace

std::string_view kind_name(Kind kind) {
  return kNames[static_cast<size_t>(kind)];
}

std::optional<Kind> kind_from_word(std::string_view word) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (text::iequals(word, kNames[i])) return static_cast<Kind>(i);
  return std::nullopt;
}

Result<Instruction> to_instruction(const Node& node, std::string_view filename) {
  std::string prefix = location_prefix(filename, node.line);
  auto kind = kind_from_word(node.keyword);
  if (!kind)
    return fail(prefix, node.name(), ": unknown instruction",
                detail::suggest(node.keyword, names_lower(), ""));
  Flags flags(node.flags);
  auto data = typed(*kind, node, flags, filename);
  if (!data) {
    // BuildKit's messages often start with the instruction ("COPY requires
    // ..."); the prefix already names it.
    std::string msg = data.error().message;
    std::string name = node.name() + " ";
    if (msg.compare(0, name.size(), name) == 0) msg.erase(0, name.size());
    return fail(prefix, node.name(), ": ", msg);
  }
  return Instruction{*kind, node, std::move(*data)};
}

Result<int64_t> parse_go_duration(std::string_view orig) {
  auto bad = [&] { return fail("time: invalid duration ", text::go_quote(orig)); };
  std::string_view s = orig;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return bad();
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    long double v = 0;
    bool pre = false, post = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      v = v * 10 + (s[i++] - '0'), pre = true;
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        v += (s[i++] - '0') * scale;
        scale /= 10;
        post = true;
      }
    }
    if (!pre && !post) return bad();
    size_t u = i;
    while (u < s.size() && s[u] != '.' && (s[u] < '0' || s[u] > '9'))
      ++u;
    std::string_view unit = s.substr(i, u - i);
    if (unit.empty()) return fail("time: missing unit in duration ", text::go_quote(orig));
    long double mult;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      mult = 1e3L;
    else if (unit == "ms")
      mult = 1e6L;
    else if (unit == "s")
      mult = 1e9L;
    else if (unit == "m")
      mult = 60e9L;
    else if (unit == "h")
      mult = 3600e9L;
    else
      return fail("time: unknown unit ", text::go_quote(unit), " in duration ",
                  text::go_quote(orig));
    total += v * mult;
    if (total > 9.223372036854775807e18L) return bad();
    s.remove_prefix(u);
  }
  auto ns = static_cast<int64_t>(total);
  return neg ? -ns : ns;
}

}  // namespace kiln::parser
