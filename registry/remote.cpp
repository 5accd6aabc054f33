#include "registry/remote.hpp"

#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "base/printable.hpp"
#include "oci/json.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "registry/url.hpp"

namespace kiln::registry {

namespace {

std::string bare_type(std::string t) {
  if (size_t semi = t.find(';'); semi != std::string::npos) t.resize(semi);
  while (!t.empty() && t.back() == ' ')
    t.pop_back();
  return t;
}

bool is_digest(const std::string& ref) {
  return ref.find(':') != std::string::npos;
}

// Reads one page of a listing ({"KEY": ["name", ...], ...}) without building
// its JSON tree: only the names under KEY are kept, each checked and counted
// against the listing's budget as it arrives, so a page of a million tiny or
// deeply nested values costs no more memory than its names.
class PageNames final : public nlohmann::json_sax<nlohmann::json> {
 public:
  PageNames(const std::string& key, std::vector<std::string>& out, size_t& listed, size_t budget)
      : key_(key), out_(out), listed_(listed), budget_(budget) {}

  const std::string& error() const { return error_; }

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool key(string_t& k) override {
    if (depth_ != 1) return true;
    in_key_ = k == key_;
    if (in_key_ && std::exchange(seen_key_, true))
      return stop("invalid JSON (\"" + key_ + "\" appears twice)");
    return true;
  }
  bool string(string_t& s) override {
    if (!value()) return false;
    if (!collecting_ || depth_ != 2) return true;
    // A name goes into terminals and messages: visible ASCII only.
    if (!visible_ascii(s))
      return stop(
          "the registry listed a name that is empty or holds control or non-ASCII characters");
    listed_ += s.size() + sizeof(std::string);
    if (listed_ > budget_)
      return stop("the registry listed more than " + std::to_string(budget_ >> 20) +
                  " MiB of names");
    out_.push_back(std::move(s));
    return true;
  }
  bool start_object(std::size_t) override { return open(); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    if (depth_ == 0) return stop("invalid JSON");
    if (depth_ == 1 && in_key_) collecting_ = true;
    return open();
  }
  bool end_array() override {
    if (depth_ == 2) collecting_ = false;
    return close();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return stop("invalid JSON");
  }

 private:
  bool value() { return depth_ > 0 || stop("invalid JSON"); }
  bool open() {
    ++depth_;
    return true;
  }
  bool close() {
    --depth_;
    return true;
  }
  bool stop(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }

  const std::string& key_;
  std::vector<std::string>& out_;
  size_t& listed_;
  const size_t budget_;
  int depth_ = 0;
  bool in_key_ = false, seen_key_ = false, collecting_ = false;
  std::string error_;
};

// The strings under `key` in every page of a listing, following the Link
// header's rel="next" (never from https to http unless `insecure`). A registry cannot keep kiln
// paging forever (a page seen before, or past kMaxPages, is an error) nor fill its memory
// (kMaxListing bytes of names, each counted with what holding it costs; pages seen are remembered
// by digest, whatever the length of their URLs).
Result<std::vector<std::string>> list_pages(
    std::string url, const std::string& key, size_t page_limit, const std::string& what,
    bool insecure, const std::function<Result<std::unique_ptr<Exchange>>(const Request&)>& send) {
  constexpr size_t kMaxPages = 100000;
  constexpr size_t kMaxListing = 64 << 20;
  std::vector<std::string> out;
  std::set<oci::Digest> seen;
  size_t listed = 0;
  while (!url.empty()) {
    if (!seen.insert(oci::Digest::of_bytes(url)).second)
      return fail(what, ": the registry's next page is one it sent before (", url_for_messages(url),
                  ")");
    if (seen.size() > kMaxPages) return fail(what, ": more than ", kMaxPages, " pages");
    Request req;
    req.url = url;
    TRY_ASSIGN(auto ex, send(req));
    if (ex->response().status != 200) return tl::unexpected(exchange_error(*ex, what));
    TRY_ASSIGN(std::string body, read_body(*ex, page_limit));
    PageNames page(key, out, listed, kMaxListing);
    if (!nlohmann::json::sax_parse(body, &page) || !page.error().empty())
      return fail(what, ": ", page.error().empty() ? "invalid JSON" : page.error());
    std::string next = next_link(ex->response().header("link"));
    url.clear();
    if (!next.empty()) {
      TRY_ASSIGN(Url cur, Url::parse(req.url));
      // Where the next page may be: no https → http downgrade.
      TRY_ASSIGN(ValidatedLocation n, validate_location(cur, next, insecure));
      url = n.url.str();
    }
  }
  return out;
}

}  // namespace

oci::Descriptor FetchedManifest::descriptor() const {
  oci::Descriptor d;
  d.media_type = media_type;
  d.digest = digest;
  d.size = static_cast<int64_t>(bytes.size());
  return d;
}

Result<FetchedManifest> Remote::get_manifest(const std::string& ref, size_t limit) {
  std::string obj = "manifest " + ref;
  TRY_ASSIGN(std::string url, client_->url("/v2/" + repo_ + "/manifests/" + ref));
  Request req;
  req.url = url;
  req.headers.emplace_back("Accept", std::string(oci::media::manifest_accept()) + ", " +
                                         std::string(oci::media::kDockerSchema1Signed) + ";q=0.1");
  TRY_ASSIGN(auto ex, call(req, {Scope::pull(repo_)}, obj));
  if (ex->response().status != 200) return tl::unexpected(exchange_error(*ex, what(obj)));
  FetchedManifest m;
  auto bytes = read_all(*ex, limit, what(obj));
  if (!bytes) return tl::unexpected(bytes.error());
  m.bytes = std::move(*bytes);
  m.digest = oci::Digest::of_bytes(m.bytes);
  std::string declared = bare_type(ex->response().header("content-type"));
  auto j = oci::parse_untrusted_json(m.bytes);
  if (j.is_discarded() || !j.is_object())
    return fail(what(obj), ": the registry sent invalid JSON");
  if (oci::media::is_schema1(declared) || (j.contains("schemaVersion") && j["schemaVersion"] == 1))
    return fail(what(obj),
                ": is a Docker schema 1 manifest, which kiln does not support "
                "(push the image again with a current tool)");
  if (declared == "application/json" || declared == "text/plain") declared.clear();
  auto type = oci::sniff_manifest_type(j, declared);
  if (!type) return fail(what(obj), ": ", type.error().message);
  m.media_type = *type;
  if (is_digest(ref)) {
    if (m.digest.str() != ref)
      return fail(what(obj), ": the registry sent content with digest ", m.digest.str());
  } else if (std::string dcd = ex->response().header("docker-content-digest");
             dcd.starts_with("sha256:") && dcd != m.digest.str()) {
    return fail(what(obj), ": the registry says its digest is ", dcd, " but the content has ",
                m.digest.str());
  }
  return m;
}

Result<std::optional<oci::Descriptor>> Remote::head_manifest(const std::string& ref,
                                                             bool for_push) {
  std::string obj = "manifest " + ref;
  TRY_ASSIGN(std::string url, client_->url("/v2/" + repo_ + "/manifests/" + ref));
  Request req;
  req.method = "HEAD";
  req.url = url;
  req.headers.emplace_back("Accept", std::string(oci::media::manifest_accept()));
  TRY_ASSIGN(auto ex, call(req, {for_push ? Scope::push(repo_) : Scope::pull(repo_)}, obj));
  const Response& r = ex->response();
  if (r.status == 404) return std::optional<oci::Descriptor>();
  if (r.status != 200) return tl::unexpected(response_error(r, "", what(obj)));
  auto dg = oci::Digest::parse(r.header("docker-content-digest"));
  std::string type = bare_type(r.header("content-type"));
  if (!dg || !dg->verifiable() || !(oci::media::is_manifest(type) || oci::media::is_index(type))) {
    // Not enough in the head (or not trustworthy): fetch the bytes instead.
    TRY_ASSIGN(auto m, get_manifest(ref));
    return std::optional<oci::Descriptor>(m.descriptor());
  }
  oci::Descriptor d;
  d.media_type = type;
  d.digest = *dg;
  d.size = std::atoll(r.header("content-length").c_str());
  if (is_digest(ref) && d.digest.str() != ref)
    return fail(what(obj), ": the registry answered for digest ", d.digest.str());
  return std::optional<oci::Descriptor>(d);
}

Result<oci::Digest> Remote::put_manifest(const std::string& ref, std::string_view bytes,
                                         std::string_view media_type) {
  std::string obj = "manifest " + ref;
  TRY_ASSIGN(std::string url, client_->url("/v2/" + repo_ + "/manifests/" + ref));
  Request req;
  req.method = "PUT";
  req.url = url;
  req.body = std::string(bytes);
  req.headers.emplace_back("Content-Type", std::string(media_type));
  TRY_ASSIGN(auto ex, call(req, {Scope::push(repo_)}, obj));
  if (ex->response().status != 201 && ex->response().status != 200)
    return tl::unexpected(exchange_error(*ex, what(obj)));
  oci::Digest want = oci::Digest::of_bytes(bytes);
  if (std::string dcd = ex->response().header("docker-content-digest");
      dcd.starts_with("sha256:") && dcd != want.str())
    return fail(what(obj), ": the registry stored digest ", dcd, " for content with digest ",
                want.str());
  return want;
}

Status Remote::delete_manifest(const oci::Digest& digest) {
  std::string obj = "manifest " + digest.str();
  TRY_ASSIGN(std::string url, client_->url("/v2/" + repo_ + "/manifests/" + digest.str()));
  Request req;
  req.method = "DELETE";
  req.url = url;
  TRY_ASSIGN(auto ex, call(req, {Scope::del(repo_)}, obj));
  int s = ex->response().status;
  if (s != 202 && s != 200 && s != 204) return tl::unexpected(exchange_error(*ex, what(obj)));
  return {};
}

Result<std::unique_ptr<Exchange>> Remote::call(Request req, const Scopes& scopes,
                                               std::string_view object, bool retry) {
  auto ex = client_->send(std::move(req), scopes, retry);
  if (!ex && ex.error().message.find(name()) == std::string::npos)
    ex.error().message = what(object) + ": " + ex.error().message;
  return ex;
}

Result<bool> Remote::has_blob(const oci::Descriptor& d, bool for_push) {
  std::string obj = "blob " + d.digest.str();
  TRY_ASSIGN(std::string url, client_->url("/v2/" + repo_ + "/blobs/" + d.digest.str()));
  Request req;
  req.method = "HEAD";
  req.url = url;
  TRY_ASSIGN(auto ex, call(req, {for_push ? Scope::push(repo_) : Scope::pull(repo_)}, obj));
  int s = ex->response().status;
  if (s == 404) return false;
  if (s != 200) return tl::unexpected(response_error(ex->response(), "", what(obj)));
  return true;
}

Result<std::vector<std::string>> Remote::tags(int page_size) {
  std::string path = "/v2/" + repo_ + "/tags/list";
  if (page_size > 0) path += "?n=" + std::to_string(page_size);
  TRY_ASSIGN(std::string url, client_->url(path));
  return list_pages(url, "tags", 16 << 20, what("tags"), client_->insecure(),
                    [&](const Request& req) { return call(req, {Scope::pull(repo_)}, "tags"); });
}

Remote remote_for(const std::string& registry, const std::string& repository,
                  const ClientOptions& opts) {
  return Remote(Client::create(registry, opts), repository);
}

Result<std::vector<std::string>> catalog(Client& client, int page_size) {
  std::string what = "registry " + client.registry() + ": catalog";
  TRY_ASSIGN(
      std::string url,
      client.url(page_size > 0 ? "/v2/_catalog?n=" + std::to_string(page_size) : "/v2/_catalog"));
  return list_pages(url, "repositories", 64 << 20, what, client.insecure(),
                    [&](const Request& req) { return client.send(req, {Scope::catalog()}); });
}

std::string next_link(const std::string& h) {
  // Link: <url>; rel="next", <url2>; rel="prev"
  size_t pos = 0;
  while (pos < h.size()) {
    size_t lt = h.find('<', pos);
    if (lt == std::string::npos) break;
    size_t gt = h.find('>', lt);
    if (gt == std::string::npos) break;
    std::string url = h.substr(lt + 1, gt - lt - 1);
    size_t end = h.find('<', gt);
    std::string params =
        h.substr(gt + 1, end == std::string::npos ? std::string::npos : end - gt - 1);
    std::string lower;
    for (char c : params)
      if (c != ' ' && c != '"')
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("rel=next") != std::string::npos) return url;
    pos = gt + 1;
  }
  return "";
}

}  // namespace kiln::registry
