# kurz Prometheus (stage 3): Debian's prometheus 2.42 server with its shared-library closure on
# scratch (no web console assets, no shell), kurz-probe for the HEALTHCHECK, and the configuration of
# docker/prometheus/ (prometheus.yml: every replica through Docker's DNS; marathon.yml: every kurz
# task through Marathon's service discovery, for marathon/infra/prometheus.json; alert rules).
# TSDB in /prometheus (a volume or tmpfs). Build from the repository root:
#   docker build -f docker/prometheus.Dockerfile -t kurz/prometheus .
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

# ---- rootfs: prometheus, the probe and their shared-library closure ----------------------------
FROM build AS rootfs
# Only the server binary is kept: its recommended exporters and the JavaScript of the old consoles
# are not needed.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus \
 && rm -rf /var/lib/apt/lists/*
COPY docker/rootfs.sh /usr/local/bin/kurz-rootfs
RUN kurz-rootfs /rootfs /usr/bin/prometheus build/release/health/probe/kurz-probe \
 && install -d -m 0750 -o 10001 -g 10001 /rootfs/prometheus

# ---- runtime ------------------------------------------------------------------------------------
FROM scratch
COPY --from=rootfs /rootfs/ /
COPY docker/prometheus/ /etc/prometheus/
ARG KURZ_VERSION=0.0.0
ARG KURZ_REVISION=unknown
ARG KURZ_SOURCE=
LABEL org.opencontainers.image.title="kurz-prometheus" \
      org.opencontainers.image.description="kurz monitoring: Debian's Prometheus scraping every replica through Docker DNS service discovery, with the kurz alert rules" \
      org.opencontainers.image.version="${KURZ_VERSION}" \
      org.opencontainers.image.revision="${KURZ_REVISION}" \
      org.opencontainers.image.source="${KURZ_SOURCE}" \
      org.opencontainers.image.base.name="scratch"
USER 10001:10001
WORKDIR /prometheus
EXPOSE 9090
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/kurz-probe", "--timeout-ms", "2000", "http://127.0.0.1:9090/-/ready"]
ENTRYPOINT ["/usr/local/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", \
     "--storage.tsdb.retention.time=2d", "--web.listen-address=:9090", "--web.enable-lifecycle"]
