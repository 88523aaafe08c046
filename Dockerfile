# Runnel image: one image, both binaries (runnel-batch, runnel-stream).
#
#   docker build -t runnel:dev .
#   docker run --rm --read-only -v runnel-data:/var/lib/runnel runnel:dev runnel-batch --version
#
# Build stage: the official Swift toolchain image. The Swift runtime and Foundation are linked
# statically (--static-swift-stdlib); only libsqlite3 and zlib stay dynamic, so the runtime stage
# is a slim Debian with those two libraries and CA certificates. Every trait is enabled
# (PostgreSQL, Redis, HTTP endpoints): the image serves the batch, streaming and hybrid patterns.
# scripts/check-image builds and smoke-tests this file offline with podman.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build

# Headers for the system libraries the package links (Package.swift: CSQLite, CZlib, CRdkafka,
# and CZstd, CSnappy for the Parquet trait).
# Versions are not pinned: they track the bookworm suite the runtime stage installs from.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsqlite3-dev zlib1g-dev librdkafka-dev libzstd-dev libsnappy-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
# The manifest declares test targets; SwiftPM wants their folders present to load the package
# (they are not built).
COPY Tests ./Tests

# .build is a cache mount: dependency checkouts and objects survive between image builds (a cold
# release build of the full dependency set takes about 25 minutes on 2 cores). The binaries are
# copied out in the same step because a cache mount is not part of the image. strip drops the
# DWARF but keeps the symbol table, so crash backtraces still name functions.
# One multi-call binary, `runnel`, serves as both runnel-batch and runnel-stream (by the name it
# is called with): two fully static binaries would each carry the Swift runtime, Foundation and
# SwiftNIO (110 MB apiece).
RUN --mount=type=cache,target=/src/.build,id=runnel-swift-build \
    set -eu \
 && swift build -c release --static-swift-stdlib --enable-all-traits --product runnel \
 && bin="$(swift build -c release --static-swift-stdlib --enable-all-traits --show-bin-path)" \
 && mkdir -p /out \
 && strip --strip-debug -o /out/runnel "$bin/runnel" \
 && ln -s runnel /out/runnel-batch \
 && ln -s runnel /out/runnel-stream \
 && /out/runnel-batch --version \
 && /out/runnel-stream --version

FROM ${RUNTIME_IMAGE} AS runtime

ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z

LABEL org.opencontainers.image.title="runnel" \
      org.opencontainers.image.description="Runnel: batch and streaming data pipelines for Kubernetes (runnel-batch, runnel-stream)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"

# Only what the binaries load at run time: libsqlite3, zlib, librdkafka, libzstd and libsnappy (linked
# dynamically; the last two for Parquet), and CA
# certificates for TLS to PostgreSQL and Redis. Versions track bookworm's security updates.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libsqlite3-0 zlib1g librdkafka1 libzstd1 libsnappy1v5 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/log/apt /var/log/dpkg.log

# uid/gid 65532 (the "nonroot" convention); the Kubernetes manifests run as this uid with a
# read-only root filesystem, so the only writable paths are the /tmp and /var/lib/runnel volumes.
RUN groupadd --system --gid 65532 runnel \
 && useradd --system --uid 65532 --gid 65532 --home-dir /var/lib/runnel --no-create-home \
      --shell /usr/sbin/nologin runnel \
 && mkdir -p /etc/runnel /var/lib/runnel \
 && chown 65532:65532 /var/lib/runnel \
 && chmod 0750 /var/lib/runnel

# The folder, not the files: copying the folder keeps the two names as links to one binary.
COPY --from=build /out/ /usr/local/bin/

USER 65532:65532
WORKDIR /var/lib/runnel
VOLUME ["/tmp", "/var/lib/runnel"]
# runnel-stream serves /livez, /readyz and /metrics here (--http-port 8080).
EXPOSE 8080

# No ENTRYPOINT: the same image runs either binary, e.g.
#   runnel-batch run /etc/runnel/pipeline.yaml
#   runnel-stream run /etc/runnel/pipeline.yaml --http-port 8080
CMD ["runnel-batch", "--help"]
