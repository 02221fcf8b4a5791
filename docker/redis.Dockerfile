# kurz Redis (stages 2 and 3): Debian's redis-server 7.0 and redis-cli with their shared-library
# closure on scratch, like the services: no shell, no package manager, user 10001, AOF persistence in
# /data (mount a volume there). Build from the repository root:
#   docker build -f docker/redis.Dockerfile -t kurz/redis .
# HEALTHCHECK: kurz-probe speaks HTTP, Redis speaks RESP, so the image ships redis-cli (1.0 MB with
# its libraries) and checks with `redis-cli ping`. The same image runs the sentinels of stage3-ha
# (docker-compose.ha.yml): entrypoint /usr/local/bin/redis-sentinel /sentinel/sentinel.conf; its
# data nodes start from /data/redis-primary.conf or /data/redis-replica.conf (unused otherwise).
#
# Stage "build" is IDENTICAL in every Dockerfile of docker/ (tests/docker/check_dockerfiles.py
# checks it): it is a cache hit once any service image is built.

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

# ---- rootfs: redis-server, redis-cli and their shared-library closure --------------------------
# Debian's redis-sentinel is a link to the same binary (Redis runs as a sentinel when called by that
# name): the image has the link too, and the Sentinel configuration of stage3-ha in /sentinel.
FROM build AS rootfs
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server redis-tools redis-sentinel \
 && rm -rf /var/lib/apt/lists/*
COPY docker/rootfs.sh /usr/local/bin/kurz-rootfs
COPY docker/redis/sentinel.conf docker/redis/redis-primary.conf docker/redis/redis-replica.conf /tmp/
RUN kurz-rootfs /rootfs /usr/bin/redis-server /usr/bin/redis-cli \
 && [ "$(readlink -f /usr/bin/redis-sentinel)" = "$(readlink -f /usr/bin/redis-server)" ] \
 && ln -s redis-server /rootfs/usr/local/bin/redis-sentinel \
 && install -d -m 0750 -o 10001 -g 10001 /rootfs/data /rootfs/sentinel \
 && install -m 0640 -o 10001 -g 10001 /tmp/sentinel.conf /rootfs/sentinel/sentinel.conf \
 && install -m 0640 -o 10001 -g 10001 /tmp/redis-primary.conf /tmp/redis-replica.conf /rootfs/data/

# Sentinel mode (`redis-server <file> --sentinel`) needs a config file it can rewrite, in a directory
# it can write (it saves its state through a temporary file and a rename), and the image has no
# shell to create one at start. An empty file here is copied into a fresh volume mounted on
# /etc/kurz/sentinel (Docker fills an empty volume from the image), writable by uid 10001; every
# directive comes on the command line (marathon/stage3-ha, swarm/kurz-ha.yml).
FROM rootfs AS sentinel-seed
RUN install -d -m 0750 -o 10001 -g 10001 /rootfs/etc/kurz/sentinel \
 && install -m 0640 -o 10001 -g 10001 /dev/null /rootfs/etc/kurz/sentinel/sentinel.conf

# ---- runtime ------------------------------------------------------------------------------------
FROM scratch
COPY --from=sentinel-seed /rootfs/ /
ARG KURZ_VERSION=0.0.0
ARG KURZ_REVISION=unknown
ARG KURZ_SOURCE=
LABEL org.opencontainers.image.title="kurz-redis" \
      org.opencontainers.image.description="kurz state store: Debian's Redis 7.0 on scratch, AOF persistence in /data, non-root" \
      org.opencontainers.image.version="${KURZ_VERSION}" \
      org.opencontainers.image.revision="${KURZ_REVISION}" \
      org.opencontainers.image.source="${KURZ_SOURCE}" \
      org.opencontainers.image.base.name="scratch"
USER 10001:10001
WORKDIR /data
EXPOSE 6379 26379
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/redis-cli", "ping"]
# No config file: every setting on the command line. protected-mode off because the server is only
# reachable on the compose network (never published); AOF fsync every second.
ENTRYPOINT ["/usr/local/bin/redis-server"]
CMD ["--bind", "0.0.0.0", "--protected-mode", "no", "--port", "6379", "--dir", "/data", \
     "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--maxmemory-policy", "noeviction"]
