// StageExpander: which arguments BuildKit expands, with which variables.
#include <set>

#include "parser/build_plan.hpp"
#include "parser/text.hpp"

namespace kiln::parser {

namespace {

const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// moby/sys/signal.ParseSignal on Linux: a non-zero number or a name, with or
// without SIG, in any case.
bool valid_signal(std::string_view raw) {
  if (raw.empty()) return false;
  bool numeric = true;
  for (char c : raw)
    numeric &= c >= '0' && c <= '9';
  if (numeric) return raw.find_first_not_of('0') != std::string_view::npos && raw.size() < 10;
  std::string s = text::to_upper(raw);
  if (text::starts_with(s, "SIG")) s.erase(0, 3);
  static const std::set<std::string> names = {
      "ABRT",   "ALRM",  "BUS",  "CHLD", "CLD",   "CONT",  "FPE",   "HUP",  "ILL",  "INT",
      "IO",     "IOT",   "KILL", "PIPE", "POLL",  "PROF",  "PWR",   "QUIT", "SEGV", "STKFLT",
      "STOP",   "SYS",   "TERM", "TRAP", "TSTP",  "TTIN",  "TTOU",  "URG",  "USR1", "USR2",
      "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX", "UNUSED"};
  if (names.count(s)) return true;
  for (int i = 1; i <= 15; ++i)
    if (s == "RTMIN+" + std::to_string(i) || s == "RTMAX-" + std::to_string(i)) return true;
  return false;
}

// EXPOSE values as docker's nat.ParsePortSpecs reads them: [ip:[host]:]port[-end][/proto].
Status check_port(std::string_view spec) {
  std::string_view port = spec, proto = "tcp";
  if (size_t slash = spec.rfind('/'); slash != std::string_view::npos) {
    port = spec.substr(0, slash);
    proto = spec.substr(slash + 1);
  }
  std::string p = text::to_lower(proto);
  if (p != "tcp" && p != "udp" && p != "sctp") return fail("invalid proto: ", proto);
  if (size_t colon = port.rfind(':'); colon != std::string_view::npos)
    port = port.substr(colon + 1);
  auto number = [](std::string_view s, long& out) {
    if (s.empty() || s.size() > 5) return false;
    out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    return out <= 65535;
  };
  long lo = 0, hi = 0;
  size_t dash = port.find('-');
  bool ok = dash == std::string_view::npos
                ? number(port, lo)
                : number(port.substr(0, dash), lo) && number(port.substr(dash + 1), hi) && lo <= hi;
  if (!ok) return fail("invalid containerPort: ", port);
  return {};
}

Status check_checksum(std::string_view d) {
  size_t colon = d.find(':');
  if (colon == std::string_view::npos) return fail("invalid checksum digest format");
  std::string_view algo = d.substr(0, colon), hex = d.substr(colon + 1);
  size_t want = algo == "sha256" ? 64 : algo == "sha384" ? 96 : algo == "sha512" ? 128 : 0;
  if (want == 0) return fail("unsupported digest algorithm");
  if (hex.size() != want) return fail("invalid checksum digest length");
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return fail("invalid checksum digest format");
  return {};
}

// dispatchCopy's --chmod check: an octal number up to 07777, or a symbolic
// mode as chmod(1) takes it ("u+x", "go-w,a+rX", "u=g").
Status check_chmod(std::string_view m) {
  auto non_octal = [&] {
    return fail("invalid chmod parameter: '", m,
                "'. it should be octal string and between 0 and 07777");
  };
  // A value that starts like a number gets the octal message, as in BuildKit.
  if (!m.empty() && m[0] >= '0' && m[0] <= '9') {
    if (m.find_first_not_of("01234567") != std::string_view::npos) return non_octal();
    unsigned long v = 0;
    for (char c : m)
      if ((v = v * 8 + static_cast<unsigned long>(c - '0')) > 07777) return non_octal();
    return {};
  }
  auto bad = [&] { return fail("invalid chmod parameter: '", m, "': not a symbolic mode"); };
  size_t i = 0;
  for (;;) {
    while (i < m.size() && std::string_view("ugoa").find(m[i]) != std::string_view::npos)
      ++i;
    if (i == m.size() || std::string_view("+-=").find(m[i]) == std::string_view::npos) return bad();
    while (i < m.size() && std::string_view("+-=").find(m[i]) != std::string_view::npos) {
      ++i;
      while (i < m.size() && std::string_view("rwxXstugo").find(m[i]) != std::string_view::npos)
        ++i;
    }
    if (i == m.size()) return {};
    if (m[i] != ',') return bad();
    ++i;
  }
}

// dispatchCopy's --checksum checks: one source, fetched over HTTP(S) or git.
Status check_checksum_source(const std::vector<std::string>& sources) {
  if (sources.size() != 1) return fail("checksum can't be specified for multiple sources");
  for (std::string_view scheme : {"http://", "https://", "git://", "ssh://", "git@"})
    if (text::starts_with(sources[0], scheme)) return {};
  return fail("checksum requires HTTP(S) or Git sources");
}

}  // namespace

StageExpander::StageExpander(const Containerfile& cf, const BuildPlan& plan,
                             const BuildOptions& opts, int stage, const EnvList& base_env,
                             const VarMap* inherited)
    : cf_(cf), plan_(plan), opts_(opts), stage_(stage) {
  sx_.escape = cf.directives.escape;
  if (inherited) vars_ = *inherited;
  for (const std::string& kv : base_env) {
    size_t eq = kv.find('=');
    set_env(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
  }
  bool has_path = false;
  for (const std::string& e : image_env_)
    has_path |= e.compare(0, 5, "PATH=") == 0;
  if (!has_path) set_env("PATH", kDefaultPath);
}

void StageExpander::set_env(const std::string& k, const std::string& v) {
  vars_.set(k, v);
  std::string entry = k + "=" + v;
  for (std::string& e : image_env_)
    if (e.size() > k.size() && e.compare(0, k.size(), k) == 0 && e[k.size()] == '=') {
      e = std::move(entry);
      return;
    }
  image_env_.push_back(std::move(entry));
}

Result<std::string> StageExpander::word(std::string_view w) const {
  return sx_.expand(w, vars_);
}

EnvList StageExpander::run_env() const {
  EnvList env;
  for (const auto& [k, v] : vars_.vars)
    env.push_back(k + "=" + v);
  for (const auto& [k, v] : opts_.build_args)
    if (is_proxy_arg(k) && !vars_.get(k)) env.push_back(k + "=" + v);
  return env;
}

Result<Instruction> StageExpander::expand(const Instruction& ins) {
  const std::string prefix = location_prefix(cf_.filename, ins.node.line) + ins.node.name() + ": ";
  auto on_error = [&](const Error& e) { return fail(prefix, e.message); };
  auto w = [&](std::string& s) -> Status {
    auto r = word(s);
    if (!r) return on_error(r.error());
    s = std::move(*r);
    return {};
  };
  Instruction out = ins;
  switch (ins.kind) {
    case Kind::from: {
      FromData& d = out.as<FromData>();
      d.base = plan_.stages[stage_].base;
      d.platform = plan_.stages[stage_].platform;
      break;
    }
    case Kind::env: {
      // Every pair sees the variables from before this instruction.
      std::vector<KeyValue>& vars = out.as<EnvData>().vars;
      for (KeyValue& kv : vars) {
        TRY(w(kv.key));
        TRY(w(kv.value));
      }
      for (const KeyValue& kv : vars)
        set_env(kv.key, kv.value);
      break;
    }
    case Kind::label:
      for (KeyValue& kv : out.as<LabelData>().labels) {
        TRY(w(kv.key));
        TRY(w(kv.value));
      }
      break;
    case Kind::arg:
      // Declarations apply one by one: `ARG A=1 B=$A` gives B=1.
      for (ArgDecl& d : out.as<ArgData>().args) {
        auto build = opts_.build_args.find(d.name);
        std::optional<std::string> v = d.value;
        if (!v && build == opts_.build_args.end())
          for (const ArgValue& g : plan_.global_args)
            if (g.name == d.name) v = g.value;
        if (build != opts_.build_args.end()) {
          v = build->second;
        } else if (d.value) {
          auto r = word(*d.value);
          if (!r) return on_error(r.error());
          v = std::move(*r);
        }
        d.value = v;
        if (v) {
          vars_.set(d.name, *v);
          args_.emplace_back(d.name, *v);
        }
      }
      break;
    case Kind::expose: {
      std::vector<std::string> ports;
      for (const std::string& p : ins.as<ExposeData>().ports) {
        auto words = sx_.expand_words(p, vars_);
        if (!words) return on_error(words.error());
        for (std::string& x : *words) {
          if (Status st = check_port(x); !st) return on_error(st.error());
          ports.push_back(std::move(x));
        }
      }
      out.as<ExposeData>().ports = std::move(ports);
      break;
    }
    case Kind::add:
    case Kind::copy: {
      const bool add = ins.kind == Kind::add;
      auto& sources = add ? out.as<AddData>().sources : out.as<CopyData>().sources;
      auto& contents = add ? out.as<AddData>().contents : out.as<CopyData>().contents;
      TRY(w(add ? out.as<AddData>().chown : out.as<CopyData>().chown));
      if (add) {
        TRY(w(out.as<AddData>().checksum));
        if (const std::string& c = out.as<AddData>().checksum; !c.empty())
          if (Status st = check_checksum(c); !st) return on_error(st.error());
      }
      for (std::string& s : sources)
        TRY(w(s));
      TRY(w(add ? out.as<AddData>().dest : out.as<CopyData>().dest));
      // --chmod is not expanded (BuildKit reads it as written).
      if (const std::string& m = add ? out.as<AddData>().chmod : out.as<CopyData>().chmod;
          !m.empty())
        if (Status st = check_chmod(m); !st) return on_error(st.error());
      if (add && !out.as<AddData>().checksum.empty())
        if (Status st = check_checksum_source(sources); !st) return on_error(st.error());
      ShellExpander raw;  // heredoc bodies: quotes are text, escape is always '\'
      raw.skip_quotes = true;
      for (SourceContent& c : contents) {
        if (!c.expand) continue;
        auto r = raw.expand(c.data, vars_);
        if (!r) return on_error(r.error());
        c.data = std::move(*r);
      }
      if (!add && !out.as<CopyData>().from.empty()) {
        const std::string& from = out.as<CopyData>().from;
        auto idx = resolve_stage_ref(cf_, from, true);
        if (!idx) return on_error(idx.error());
        if (*idx >= stage_)
          return fail(prefix, "cannot copy from stage ", text::go_quote(from),
                      ", it needs to be defined before current stage ",
                      text::go_quote(cf_.stages[stage_].display_name()));
      }
      break;
    }
    case Kind::user:
      TRY(w(out.as<UserData>().user));
      break;
    case Kind::workdir:
      TRY(w(out.as<WorkdirData>().path));
      break;
    case Kind::stopsignal:
      TRY(w(out.as<StopSignalData>().signal));
      if (!valid_signal(out.as<StopSignalData>().signal))
        return fail(prefix, "invalid signal: ", out.as<StopSignalData>().signal);
      break;
    case Kind::volume:
      for (std::string& v : out.as<VolumeData>().paths) {
        TRY(w(v));
        if (v.empty()) return fail(prefix, "VOLUME specified can not be an empty string");
      }
      break;
    case Kind::run: {
      RunData& d = out.as<RunData>();
      WordExpander ex = [this](std::string_view s) { return word(s); };
      d.parsed_mounts.clear();
      for (std::string& spec : d.mounts) {
        auto m = parse_mount(spec, ex);
        if (!m) return fail(prefix, "--mount=", spec, ": ", m.error().message);
        int idx = cf_.find_stage(m->from.empty() ? "scratch" : m->from);
        if (idx >= stage_)
          return fail(prefix, "cannot mount from stage ", text::go_quote(m->from), " to ",
                      text::go_quote(cf_.stages[stage_].display_name()),
                      ", stage needs to be defined before current command");
        d.parsed_mounts.push_back(std::move(*m));
        TRY_ASSIGN(spec, expand_mount_spec(spec, ex));
      }
      break;
    }
    default:
      break;  // CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER, ONBUILD: not expanded
  }
  return out;
}

Result<std::vector<std::optional<std::vector<Instruction>>>> expand_stages(
    const Containerfile& cf, const BuildPlan& plan, const BuildOptions& opts) {
  std::vector<std::optional<std::vector<Instruction>>> out(cf.stages.size());
  std::vector<EnvList> envs(cf.stages.size());
  std::vector<VarMap> vars(cf.stages.size());
  for (const Stage& st : cf.stages) {
    const StagePlan& sp = plan.stages[st.index];
    if (!sp.needed) continue;
    const bool from_stage = sp.base_stage >= 0;
    StageExpander ex(cf, plan, opts, st.index, from_stage ? envs[sp.base_stage] : EnvList{},
                     from_stage ? &vars[sp.base_stage] : nullptr);
    std::vector<Instruction> list;
    for (const Instruction& ins : st.instructions) {
      TRY_ASSIGN(Instruction e, ex.expand(ins));
      list.push_back(std::move(e));
    }
    envs[st.index] = ex.image_env();
    vars[st.index] = ex.vars();
    out[st.index] = std::move(list);
  }
  return out;
}

}  // namespace kiln::parser
