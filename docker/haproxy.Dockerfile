# kurz edge load balancer: Debian's HAProxy (the engine marathon-lb runs) with the stage configs of
# docker/haproxy/. No image registry is needed: HAProxy comes from Debian's package, copied with its
# shared-library closure onto scratch, like the services. Build from the repository root:
#   docker build -f docker/haproxy.Dockerfile -t kurz/haproxy .
# The stage is chosen by the command: `-f /etc/haproxy/stage1-scaled.cfg` (the default) or another
# file of docker/haproxy/; common.cfg (global, defaults, DNS resolvers, stats) always comes first.
#
# Stage "build" is IDENTICAL in every Dockerfile of docker/ (tests/docker/check_dockerfiles.py
# checks it): it is a cache hit once any service image is built, and brings kurz-probe.

# ---- build (shared) ----------------------------------------------------------------------------
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config \
      libpistache-dev prometheus-cpp-dev nlohmann-json3-dev libhiredis-dev libspdlog-dev \
      libqrencode-dev libpng-dev libidn2-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt CMakePresets.json ./
COPY cmake cmake
COPY health health
COPY platform platform
COPY services services
RUN cmake --preset release --log-level=WARNING \
 && cmake --build --preset release \
 && rm -rf build/release/CMakeFiles
# ---- end of the shared build stage -------------------------------------------------------------

# ---- rootfs: haproxy, the probe and their shared-library closure -------------------------------
FROM build AS rootfs
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/*
COPY docker/rootfs.sh /usr/local/bin/kurz-rootfs
RUN kurz-rootfs /rootfs /usr/sbin/haproxy build/release/health/probe/kurz-probe \
 && haproxy -vv | sed -n '1p' > /rootfs/etc/haproxy-version

# ---- runtime ------------------------------------------------------------------------------------
FROM scratch
COPY --from=rootfs /rootfs/ /
COPY docker/haproxy/ /etc/haproxy/
ARG KURZ_VERSION=0.0.0
ARG KURZ_REVISION=unknown
ARG KURZ_SOURCE=
LABEL org.opencontainers.image.title="kurz-haproxy" \
      org.opencontainers.image.description="kurz edge load balancer: Debian's HAProxy with DNS service discovery (server-template) and the per-stage routing of docker/haproxy/" \
      org.opencontainers.image.version="${KURZ_VERSION}" \
      org.opencontainers.image.revision="${KURZ_REVISION}" \
      org.opencontainers.image.source="${KURZ_SOURCE}" \
      org.opencontainers.image.base.name="scratch"
USER 10001:10001
EXPOSE 8080 8404
# SIGUSR1: soft stop (finish the connections in flight) instead of the hard stop of SIGTERM.
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/kurz-probe", "--timeout-ms", "2000", "http://127.0.0.1:8404/healthz"]
ENTRYPOINT ["/usr/local/bin/haproxy", "-W", "-db", "-f", "/etc/haproxy/common.cfg"]
CMD ["-f", "/etc/haproxy/stage1-scaled.cfg"]
