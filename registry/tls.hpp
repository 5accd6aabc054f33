// Per-registry TLS material: CA certificates (*.crt) and a client certificate
// (*.cert with the *.key of the same name) from --cert-dir, or else from
// /etc/containers/certs.d/HOST[:PORT]/ and /etc/docker/certs.d/HOST[:PORT]/.
// And the registries.conf list of registries marked insecure.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "registry/http.hpp"

namespace kiln::registry {

std::vector<std::filesystem::path> default_certs_d_roots();

// `host_port` as certs.d names it ("reg.example", "127.0.0.1:5000"). When
// `cert_dir` is set it alone is searched. `verify` is copied into the result.
TlsSettings load_tls_settings(const std::string& host_port, const std::string& cert_dir,
                              const std::vector<std::filesystem::path>& certs_d_roots, bool verify);

// Registries marked insecure in a registries.conf (v2 `[[registry]]` tables with
// `insecure = true`, and v1 `[registries.insecure] registries = [...]`).
// A missing or unreadable file gives an empty set.
std::set<std::string> insecure_registries(const std::filesystem::path& conf);
// $CONTAINERS_REGISTRIES_CONF, else ~/.config/containers/registries.conf or
// /etc/containers/registries.conf, plus the registries.conf.d drop-ins.
std::set<std::string> default_insecure_registries();

}  // namespace kiln::registry
