#!/usr/bin/python3
"""Inputs of the parse and ignore benchmarks (issue 3).

usage: parse-inputs.py DIR NLINES NFILES

DIR/Containerfile: about NLINES lines cycling through every instruction kind,
  flags, continuations, comments, exec and shell forms and heredocs.
DIR/ctx: a context of NFILES empty files over nested directories, with a
  50-pattern .dockerignore (globs, **, exceptions, anchored and directory rules).
"""
import os, sys

out, nlines, nfiles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out, exist_ok=True)

blocks = [
    "FROM debian:bookworm AS stage{i}\n",
    "ARG VERSION{i}=1.{i}\n",
    "ENV PATH=/opt/s{i}/bin:$PATH LANG=C.UTF-8 \\\n    HOME=/root\n",
    "LABEL org.example.stage=\"{i}\" org.example.version=\"${{VERSION{i}}}\"\n",
    "# a comment line for stage {i}\n",
    "RUN apt-get update && \\\n    apt-get install -y --no-install-recommends ca-certificates curl && \\\n    rm -rf /var/lib/apt/lists/*\n",
    "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked --network=none make -j2 target{i}\n",
    "COPY --chown=1000:1000 --chmod=0644 src/{i}/ /app/{i}/\n",
    "COPY --from={prev} /out /out{i}\n",
    "ADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 https://example.com/f{i}.tar.gz /tmp/\n",
    "WORKDIR /app/${{VERSION{i}:-dev}}\n",
    "EXPOSE 80{i:02d}/tcp 9000-9010/udp\n",
    "USER 1000:1000\n",
    "HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD [\"/bin/check\", \"{i}\"]\n",
    "RUN <<EOF\nset -e\necho stage {i}\necho done\nEOF\n",
    "CMD [\"/app/run\", \"--stage\", \"{i}\"]\n",
    "ENTRYPOINT [\"/bin/tini\", \"--\"]\n",
    "VOLUME [\"/data{i}\"]\n",
    "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n",
    "STOPSIGNAL SIGTERM\n",
    "ONBUILD RUN echo triggered {i}\n",
]
lines, i, text = 0, 0, []
while lines < nlines:
    for b in blocks:
        s = b.format(i=i, prev="stage%d" % (i - 1) if i else "busybox:latest")
        text.append(s)
        lines += s.count("\n")
    i += 1
with open(os.path.join(out, "Containerfile"), "w") as f:
    f.write("# syntax=docker/dockerfile:1\n# escape=\\\n")
    f.writelines(text)

ctx = os.path.join(out, "ctx")
kinds = ["src", "node_modules", "build", "docs", "test", ".git", "vendor", "tmp"]
exts = [".c", ".h", ".go", ".js", ".md", ".log", ".o", ".tmp", ".json", ".txt"]
per_dir = 50
for n in range(nfiles):
    d = os.path.join(ctx, kinds[n % len(kinds)], "p%03d" % (n // per_dir % 100), "q%04d" % (n // (per_dir * 100)))
    if n % per_dir == 0 or not os.path.isdir(d):
        os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "file%06d%s" % (n, exts[n % len(exts)])), "w").close()

patterns = [
    "# 50 patterns", ".git", "**/*.o", "**/*.tmp", "*.log", "!important.log", "build/",
    "!build/keep", "node_modules", "docs/**/*.md", "!docs/p000/**/*.md", "test/**/q000*",
    "vendor/*/q0001", "/tmp", "**/file00000?.c", "**/file0001[0-9]*.h", "src/p01?/**",
    "!src/p010/**", "**/.DS_Store", "*.swp", "**/*~", "coverage", ".env", ".env.*",
    "!.env.example", "dist", "**/__pycache__", "*.pyc", ".idea", ".vscode", "**/*.bak",
    "src/**/q0002/*.js", "!src/**/q0002/file0*5.js", "Dockerfile*", "Containerfile*",
    "**/testdata/**", "secrets/", "**/*.pem", "**/*.key", "!ca.pem", "logs/**",
    "src/p0[5-9]?/q*/file*.json", "test/p1??", "**/p099/**/*.txt", "[Tt]humbs.db",
    "*.orig", "vendor/**/*.md", "build/**/*.o", "!build/**/keep.o", "tmp/**",
    "!src/p000/q0000/file000000.c",
]
assert len([p for p in patterns if not p.startswith("#")]) == 50
with open(os.path.join(ctx, ".dockerignore"), "w") as f:
    f.write("\n".join(patterns) + "\n")
