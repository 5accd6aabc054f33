#include "parser/report.hpp"

#include "parser/json_writer.hpp"
#include "parser/line_args.hpp"
#include "parser/text.hpp"

namespace kiln::parser {

namespace {

bool has_form(std::string_view kw) {
  for (const char* k : {"run", "cmd", "entrypoint", "shell", "copy", "add", "volume"})
    if (text::iequals(kw, k)) return true;
  return false;
}

void form_json(JsonWriter& w, const Node& n) {
  bool applies = has_form(n.keyword) ? (!n.args.empty() || n.json)
                                     : text::iequals(n.keyword, "healthcheck") && n.args.size() > 1;
  if (applies)
    w.string(n.json ? "exec" : "shell");
  else
    w.null();
}

void heredocs_json(JsonWriter& w, const Node& n) {
  w.begin_array();
  for (const Heredoc& h : n.heredocs) {
    w.begin_object();
    w.key("name").string(h.name);
    w.key("content").string(h.content);
    w.key("expand").boolean(h.expand);
    w.key("chomp").boolean(h.chomp);
    w.end_object();
  }
  w.end_array();
}

void node_json(JsonWriter& w, const Node& n, bool top);

// Arguments "as the reference splits them", unexpanded.
void args_json(JsonWriter& w, const Node& n) {
  w.begin_array();
  if (text::iequals(n.keyword, "env") || text::iequals(n.keyword, "label")) {
    for (const KeyValue& kv : n.pairs) {
      w.begin_object().key("key").string(kv.key).key("value").string(kv.value);
      w.end_object();
    }
  } else if (text::iequals(n.keyword, "arg")) {
    for (const std::string& a : n.args) {
      size_t eq = a.find('=');
      w.begin_object().key("name").string(a.substr(0, eq)).key("default");
      if (eq == std::string::npos)
        w.null();
      else
        w.string(a.substr(eq + 1));
      w.end_object();
    }
  } else if (text::iequals(n.keyword, "onbuild")) {
    for (const Node& t : n.trigger)
      node_json(w, t, false);
  } else {
    for (const std::string& a : n.args)
      w.string(a);
  }
  w.end_array();
}

void node_json(JsonWriter& w, const Node& n, bool top) {
  if (!top) w.begin_object();
  w.key("instruction").string(n.name());
  if (top) {
    w.key("line").number(n.line);
    w.key("end_line").number(n.end_line);
  }
  w.key("original").string(n.original);
  w.key("flags").string_array(n.flags);
  w.key("form");
  form_json(w, n);
  w.key("args");
  args_json(w, n);
  w.key("heredocs");
  heredocs_json(w, n);
  if (!top) w.end_object();
}

// COPY/ADD arguments after expansion: heredoc words stay, paths expand.
std::vector<std::string> copy_args(const Node& n, const std::vector<std::string>& sources,
                                   const std::string& dest) {
  std::vector<std::string> out;
  size_t next = 0;
  for (size_t i = 0; i + 1 < n.args.size(); ++i) {
    auto h = detail::parse_heredoc_word(n.args[i]);
    if (h && *h)
      out.push_back(n.args[i]);
    else
      out.push_back(next < sources.size() ? sources[next++] : n.args[i]);
  }
  out.push_back(dest);
  return out;
}

void expanded_json(JsonWriter& w, const Instruction& e) {
  const Node& n = e.node;
  switch (e.kind) {
    case Kind::from: {
      std::vector<std::string> args = n.args;
      args[0] = e.as<FromData>().base;
      w.string_array(args);
      return;
    }
    case Kind::env:
    case Kind::label: {
      const auto& kvs = e.kind == Kind::env ? e.as<EnvData>().vars : e.as<LabelData>().labels;
      w.begin_array();
      for (const KeyValue& kv : kvs)
        w.begin_object().key("key").string(kv.key).key("value").string(kv.value).end_object();
      w.end_array();
      return;
    }
    case Kind::arg:
      w.begin_array();
      for (const ArgDecl& d : e.as<ArgData>().args) {
        w.begin_object().key("name").string(d.name).key("value");
        if (d.value)
          w.string(*d.value);
        else
          w.null();
        w.end_object();
      }
      w.end_array();
      return;
    case Kind::expose:
      w.string_array(e.as<ExposeData>().ports);
      return;
    case Kind::copy:
      w.string_array(copy_args(n, e.as<CopyData>().sources, e.as<CopyData>().dest));
      return;
    case Kind::add:
      w.string_array(copy_args(n, e.as<AddData>().sources, e.as<AddData>().dest));
      return;
    case Kind::user:
      w.string_array({e.as<UserData>().user});
      return;
    case Kind::workdir:
      w.string_array({e.as<WorkdirData>().path});
      return;
    case Kind::stopsignal:
      w.string_array({e.as<StopSignalData>().signal});
      return;
    case Kind::volume:
      w.string_array(e.as<VolumeData>().paths);
      return;
    default:
      w.null();
  }
}

// Flags with the values the builder uses (only FROM, COPY, ADD and RUN
// expand flags); null for other instructions.
void expanded_flags_json(JsonWriter& w, const Instruction& e) {
  if (e.kind != Kind::from && e.kind != Kind::copy && e.kind != Kind::add && e.kind != Kind::run) {
    w.null();
    return;
  }
  std::vector<std::string> out;
  size_t mount = 0;
  for (const std::string& f : e.node.flags) {
    std::string name = f.substr(0, f.find('='));
    std::string v;
    bool replaced = true;
    if (e.kind == Kind::from && name == "--platform")
      v = e.as<FromData>().platform;
    else if (e.kind == Kind::copy && name == "--chown")
      v = e.as<CopyData>().chown;
    else if (e.kind == Kind::add && name == "--chown")
      v = e.as<AddData>().chown;
    else if (e.kind == Kind::add && name == "--checksum")
      v = e.as<AddData>().checksum;
    else if (e.kind == Kind::run && name == "--mount" && mount < e.as<RunData>().mounts.size())
      v = e.as<RunData>().mounts[mount++];
    else
      replaced = false;
    out.push_back(replaced ? name + "=" + v : f);
  }
  w.string_array(out);
}

void instruction_json(JsonWriter& w, const Instruction& ins, const Instruction* exp) {
  w.begin_object();
  node_json(w, ins.node, true);
  w.key("expanded");
  if (exp)
    expanded_json(w, *exp);
  else
    w.null();
  w.key("expanded_flags");
  if (exp)
    expanded_flags_json(w, *exp);
  else
    w.null();
  // COPY/ADD heredoc files as they will be written (tabs stripped, expanded).
  w.key("expanded_heredocs");
  const std::vector<SourceContent>* contents = nullptr;
  if (exp && exp->kind == Kind::copy) contents = &exp->as<CopyData>().contents;
  if (exp && exp->kind == Kind::add) contents = &exp->as<AddData>().contents;
  if (contents) {
    w.begin_array();
    for (const SourceContent& c : *contents)
      w.begin_object().key("name").string(c.path).key("content").string(c.data).end_object();
    w.end_array();
  } else {
    w.null();
  }
  w.end_object();
}

void optional_string(JsonWriter& w, const std::optional<std::string>& s) {
  if (s)
    w.string(*s);
  else
    w.null();
}

}  // namespace

Result<ParseResult> parse_for_report(std::string_view text, std::string_view filename,
                                     const BuildOptions& opts) {
  ParseResult r;
  TRY_ASSIGN(r.cf, parse_containerfile(text, filename));
  TRY_ASSIGN(r.plan, plan_build(r.cf, opts));
  TRY_ASSIGN(r.expanded, expand_stages(r.cf, r.plan, opts));
  return r;
}

std::vector<std::string> ParseResult::warnings() const {
  std::vector<std::string> out;
  for (const auto* list : {&cf.warnings, &plan.warnings})
    for (const Diagnostic& d : *list)
      out.push_back(location_prefix(cf.filename, d.line) + d.message);
  return out;
}

std::string render_json(const Containerfile& cf, const BuildPlan& plan,
                        const ExpandedStages& expanded) {
  JsonWriter w;
  w.begin_object();
  w.key("directives").begin_object();
  w.key("syntax");
  optional_string(w, cf.directives.syntax);
  w.key("escape").string(std::string(1, cf.directives.escape));
  w.key("check");
  optional_string(w, cf.directives.check);
  w.end_object();

  w.key("stages").begin_array();
  for (const Stage& st : cf.stages) {
    const StagePlan& sp = plan.stages[st.index];
    w.begin_object();
    w.key("index").number(st.index);
    w.key("name");
    optional_string(w, st.name.empty() ? std::nullopt : std::optional<std::string>(st.name));
    w.key("base").string(sp.base);
    w.key("platform");
    optional_string(w,
                    sp.platform.empty() ? std::nullopt : std::optional<std::string>(sp.platform));
    w.key("base_stage");
    if (sp.base_stage >= 0)
      w.number(sp.base_stage);
    else
      w.null();
    w.key("depends_on").begin_array();
    for (int d : sp.deps)
      w.number(d);
    w.end_array();
    w.key("needed").boolean(sp.needed);
    w.key("instructions").begin_array();
    const auto& exp = expanded[st.index];
    for (size_t i = 0; i < st.instructions.size(); ++i)
      instruction_json(w, st.instructions[i], exp ? &(*exp)[i] : nullptr);
    w.end_array();
    w.end_object();
  }
  w.end_array();

  w.key("global_args").begin_array();
  for (size_t i = 0; i < cf.global_args.size(); ++i)
    instruction_json(w, cf.global_args[i], &plan.global_arg_instructions[i]);
  w.end_array();
  w.key("target").number(plan.target);
  w.end_object();
  return w.take();
}

namespace {

// One line per instruction: the logical line, then "=> ..." when expansion
// changed something.
std::string summary(const Instruction& e) {
  JsonWriter w;
  expanded_json(w, e);
  std::string args = w.take();
  JsonWriter f;
  expanded_flags_json(f, e);
  std::string flags = f.take();
  auto squash = [](std::string s) {
    std::string out;
    bool space = false;
    for (char c : s) {
      if (c == '\n' || c == ' ') {
        space = true;
        continue;
      }
      if (space && !out.empty() && out.back() != '[' && out.back() != '{' && c != ']' && c != '}')
        out += ' ';
      space = false;
      out += c;
    }
    return out;
  };
  std::string out;
  if (flags != "null\n") out += "flags " + squash(flags) + " ";
  out += "args " + squash(args);
  return out;
}

}  // namespace

std::string render_text(const Containerfile& cf, const BuildPlan& plan,
                        const ExpandedStages& expanded) {
  std::string out;
  out += "escape " + std::string(1, cf.directives.escape);
  if (cf.directives.syntax) out += ", syntax " + *cf.directives.syntax;
  if (cf.directives.check) out += ", check " + *cf.directives.check;
  out += "\n";
  auto line = [&](const Instruction& ins, const Instruction* exp) {
    std::string orig(text::trim_space(ins.node.original));
    std::string num = std::to_string(ins.node.line);
    out += std::string(num.size() < 5 ? 5 - num.size() : 0, ' ') + num + "  " + orig + "\n";
    for (const Heredoc& h : ins.node.heredocs) {
      size_t n = 0;
      for (char c : h.content)
        n += c == '\n';
      out += "       <<" + h.name + " (" + std::to_string(n) + " lines" +
             (h.expand ? "" : ", not expanded") + ")\n";
    }
    if (exp) {
      JsonWriter a;
      expanded_json(a, *exp);
      if (a.take() != "null\n" || exp->kind == Kind::run) {
        std::string s = summary(*exp);
        if (s != "args null") out += "       => " + s + "\n";
      }
    }
  };
  if (!cf.global_args.empty()) {
    out += "global args:\n";
    for (size_t i = 0; i < cf.global_args.size(); ++i)
      line(cf.global_args[i], &plan.global_arg_instructions[i]);
  }
  for (const Stage& st : cf.stages) {
    const StagePlan& sp = plan.stages[st.index];
    out += "stage " + std::to_string(st.index);
    if (!st.name.empty()) out += " \"" + st.name + "\"";
    out += ": from " + sp.base;
    if (sp.base_stage >= 0) out += " (stage " + std::to_string(sp.base_stage) + ")";
    if (!sp.platform.empty()) out += ", platform " + sp.platform;
    if (!sp.deps.empty()) {
      out += ", uses stages";
      for (int d : sp.deps)
        out += " " + std::to_string(d);
    }
    if (st.index == plan.target) out += " [target]";
    if (!sp.needed) out += " [not needed for the target]";
    out += "\n";
    const auto& exp = expanded[st.index];
    for (size_t i = 0; i < st.instructions.size(); ++i)
      line(st.instructions[i], exp ? &(*exp)[i] : nullptr);
  }
  return out;
}

}  // namespace kiln::parser
