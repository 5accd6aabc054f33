// Tests of the parser API the builder uses, beyond what the golden cases show:
// mounts as parsed at build time, durations, exec-form JSON, heredoc bodies,
// the RUN environment and ONBUILD triggers.
#include <gtest/gtest.h>

#include "parser/build_plan.hpp"
#include "parser/line_args.hpp"
#include "parser/report.hpp"

using namespace kiln::parser;

namespace {

Mount mount(const std::string& spec) {
  WordExpander same = [](std::string_view s) -> kiln::Result<std::string> {
    return std::string(s);
  };
  auto m = parse_mount(spec, same);
  EXPECT_TRUE(m) << spec << ": " << m.error().what();
  return m ? *m : Mount{};
}

std::string mount_error(const std::string& spec) {
  WordExpander same = [](std::string_view s) -> kiln::Result<std::string> {
    return std::string(s);
  };
  auto m = parse_mount(spec, same);
  return m ? "" : m.error().what();
}

}  // namespace

TEST(Mount, DefaultsPerType) {
  Mount bind = mount("target=/x");
  EXPECT_EQ(bind.type, "bind");
  EXPECT_TRUE(bind.readonly);  // bind, secret and ssh default to read-only
  Mount cache = mount("type=cache,target=/c,id=go,sharing=LOCKED,mode=0755,uid=1000,gid=1000");
  EXPECT_FALSE(cache.readonly);  // cache and tmpfs default to read-write
  EXPECT_EQ(cache.id, "go");
  EXPECT_EQ(cache.sharing, "locked");
  EXPECT_EQ(cache.mode, 0755u);
  EXPECT_EQ(cache.uid, 1000u);
  Mount tmpfs = mount("type=tmpfs,dst=/t,size=1.5g");
  EXPECT_EQ(tmpfs.size_limit, static_cast<int64_t>(1.5 * 1024 * 1024 * 1024));
  EXPECT_FALSE(tmpfs.readonly);
  Mount secret = mount("type=secret,id=tok,env=TOKEN,required=true,ro=false");
  EXPECT_TRUE(secret.required);
  EXPECT_EQ(secret.env, "TOKEN");
  EXPECT_FALSE(secret.readonly);
  Mount ssh = mount("type=SSH,required");
  EXPECT_EQ(ssh.type, "ssh");
  EXPECT_TRUE(ssh.required);
  Mount rw = mount("type=bind,from=build,src=/out,destination=/in,readwrite");
  EXPECT_FALSE(rw.readonly);
  EXPECT_EQ(rw.from, "build");
  EXPECT_EQ(rw.source, "/out");
  EXPECT_EQ(rw.target, "/in");
}

TEST(Mount, Errors) {
  EXPECT_EQ(mount_error("type=volume"), "unsupported mount type \"volume\"");
  EXPECT_EQ(mount_error("type=cache,target=/x,sharing=wide"), "unsupported sharing value \"wide\"");
  EXPECT_EQ(mount_error("type=tmpfs,target=/x,sharing=shared"),
            "invalid cache sharing set for tmpfs mount");
  EXPECT_EQ(mount_error("type=cache,mode=999"), "invalid value 999 for mode");
  EXPECT_EQ(mount_error("type=cache,uid=-1"), "invalid value -1 for uid");
  EXPECT_EQ(mount_error("type=bind,size=1m"), "unexpected key 'size' for mount type 'bind'");
  EXPECT_EQ(mount_error("type=secret,id=a,src=b"), "both source and id can't be set");
  EXPECT_EQ(mount_error("type=secret,id=a,from=x"), "secret mount should not have a from");
  EXPECT_EQ(mount_error("ro=maybe"), "invalid value for ro: maybe");
  EXPECT_EQ(mount_error("target"), "invalid field 'target' must be a key=value pair");
  EXPECT_EQ(mount_error("\"type=bind"),
            "failed to parse csv mounts: extraneous or missing \" in quoted-field");
  EXPECT_TRUE(check_mount_syntax("from=image$"));  // a trailing $ is not a variable
  EXPECT_FALSE(check_mount_syntax("from=${X}"));
}

TEST(Durations, GoSyntax) {
  EXPECT_EQ(*parse_go_duration("30s"), 30'000'000'000);
  EXPECT_EQ(*parse_go_duration("1m30s"), 90'000'000'000);
  EXPECT_EQ(*parse_go_duration("1.5h"), 5'400'000'000'000);
  EXPECT_EQ(*parse_go_duration("250ms"), 250'000'000);
  EXPECT_EQ(*parse_go_duration("10us"), 10'000);
  EXPECT_EQ(*parse_go_duration("10\xC2\xB5s"), 10'000);
  EXPECT_EQ(*parse_go_duration("-2s"), -2'000'000'000);
  EXPECT_EQ(*parse_go_duration("0"), 0);
  EXPECT_EQ(parse_go_duration("10").error().what(), "time: missing unit in duration \"10\"");
  EXPECT_EQ(parse_go_duration("1d").error().what(), "time: unknown unit \"d\" in duration \"1d\"");
  EXPECT_EQ(parse_go_duration("").error().what(), "time: invalid duration \"\"");
  EXPECT_FALSE(parse_go_duration(".s"));
}

TEST(ExecForm, GoJsonRules) {
  using detail::JsonArray;
  std::vector<std::string> out;
  EXPECT_EQ(detail::parse_json_array(R"(["a", "b c"])", out), JsonArray::ok);
  EXPECT_EQ(out, (std::vector<std::string>{"a", "b c"}));
  EXPECT_EQ(detail::parse_json_array(R"([ "\ud83d\ude00", "\ud800x", "\/" ])", out), JsonArray::ok);
  EXPECT_EQ(out, (std::vector<std::string>{"\xF0\x9F\x98\x80", "\xEF\xBF\xBDx", "/"}));
  EXPECT_EQ(detail::parse_json_array("[]", out), JsonArray::ok);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(detail::parse_json_array(R"(["a", 1])", out), JsonArray::not_strings);
  EXPECT_EQ(detail::parse_json_array(R"(["a", null])", out), JsonArray::not_strings);
  EXPECT_EQ(detail::parse_json_array(R"(["a", ["b"]])", out), JsonArray::not_strings);
  EXPECT_EQ(detail::parse_json_array(R"(["a",])", out), JsonArray::invalid);
  EXPECT_EQ(detail::parse_json_array(R"(['a'])", out), JsonArray::invalid);
  EXPECT_EQ(detail::parse_json_array(R"(["a"] x)", out), JsonArray::invalid);
  EXPECT_EQ(detail::parse_json_array("[\"tab\there\"]", out), JsonArray::invalid);
  EXPECT_EQ(detail::parse_json_array(R"(["a", 01])", out), JsonArray::invalid);
}

TEST(Heredoc, ChompStripsLeadingTabsOnly) {
  Heredoc h{"EOF", "\tone\n\t\ttwo\n  three\n", true, true, 0};
  EXPECT_EQ(h.chomped(), "one\ntwo\n  three\n");
  h.chomp = false;
  EXPECT_EQ(h.chomped(), h.content);
}

TEST(StageExpander, RunEnvironment) {
  auto cf = parse_containerfile(
      "FROM alpine\nARG TOKEN=secret-ish\nENV PATH=/opt/bin:$PATH HOME=/root\nARG http_proxy\n",
      "Containerfile");
  ASSERT_TRUE(cf);
  BuildOptions opts;
  opts.build_args = {{"HTTP_PROXY", "http://proxy:3128"}, {"http_proxy", "http://lower:1"}};
  auto plan = plan_build(*cf, opts);
  ASSERT_TRUE(plan);
  StageExpander ex(*cf, *plan, opts, 0, {"PATH=/usr/bin", "LANG=C"});
  for (const Instruction& ins : cf->stages[0].instructions)
    ASSERT_TRUE(ex.expand(ins));
  // The image keeps ENV only: ARG values and proxies are not written into it.
  EXPECT_EQ(ex.image_env(), (EnvList{"PATH=/opt/bin:/usr/bin", "LANG=C", "HOME=/root"}));
  EnvList run = ex.run_env();
  auto has = [&](const std::string& kv) {
    return std::find(run.begin(), run.end(), kv) != run.end();
  };
  EXPECT_TRUE(has("TOKEN=secret-ish"));
  EXPECT_TRUE(has("HTTP_PROXY=http://proxy:3128"));  // undeclared proxy args reach RUN
  EXPECT_TRUE(has("http_proxy=http://lower:1"));     // declared: an ordinary ARG
  EXPECT_TRUE(has("PATH=/opt/bin:/usr/bin"));
}

TEST(StageExpander, BaseImageEnvAndDefaultPath) {
  auto cf = parse_containerfile("FROM scratch\nENV P=$PATH\n", "Containerfile");
  ASSERT_TRUE(cf);
  BuildOptions opts;
  auto plan = plan_build(*cf, opts);
  ASSERT_TRUE(plan);
  StageExpander ex(*cf, *plan, opts, 0, {});
  auto env = ex.expand(cf->stages[0].instructions[1]);
  ASSERT_TRUE(env);
  EXPECT_EQ(env->as<EnvData>().vars[0].value,
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
}

TEST(Onbuild, TriggerIsTypedAndStoredWithoutKeyword) {
  auto cf = parse_containerfile("FROM a\nONBUILD  COPY --chown=1 <<EOF /x\nhi\nEOF\n", "C");
  ASSERT_TRUE(cf);
  const auto& ob = cf->stages[0].instructions[1].as<OnbuildData>();
  EXPECT_EQ(ob.expression, "COPY --chown=1 <<EOF /x\nhi\nEOF");
  ASSERT_TRUE(ob.trigger);
  EXPECT_EQ(ob.trigger->kind, Kind::copy);
  EXPECT_EQ(ob.trigger->as<CopyData>().contents.at(0).data, "hi\n");
  // A child image re-parses the stored trigger on its own.
  auto node = parse_instruction_line(ob.expression.substr(0, ob.expression.find('\n')));
  ASSERT_TRUE(node);
  EXPECT_EQ(node->name(), "COPY");
}

TEST(Platform, ParseAndNormalise) {
  EXPECT_EQ(Platform::parse("linux/amd64")->str(), "linux/amd64");
  EXPECT_EQ(Platform::parse("Linux/ARM64/v8")->str(), "linux/arm64");
  EXPECT_EQ(Platform::parse("linux/arm")->str(), "linux/arm/v7");
  EXPECT_EQ(Platform::parse("linux/x86_64")->str(), "linux/amd64");
  EXPECT_EQ(Platform::parse("arm64")->str(), "linux/arm64");
  EXPECT_FALSE(Platform::parse("linux//amd64"));
  EXPECT_FALSE(Platform::parse("a/b/c/d"));
}
