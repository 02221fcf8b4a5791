# kurz web (stage 3 web service): the single-page web UI and its static assets.
# Build from the repository root:  docker build -f docker/web.Dockerfile -t kurz/web .
#
# Stage "build" is IDENTICAL in every Dockerfile of docker/ (tests/docker/check_dockerfiles.py
# checks it): Docker's layer cache then compiles the code once for all images. Change it in all of
# them at once.

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

# ---- rootfs: the binary, the probe and their shared-library closure ----------------------------
FROM build AS rootfs
COPY docker/rootfs.sh /usr/local/bin/kurz-rootfs
RUN kurz-rootfs /rootfs build/release/services/web/kurz-web build/release/health/probe/kurz-probe

# ---- runtime: no shell, no package manager, non-root --------------------------------------------
FROM scratch
COPY --from=rootfs /rootfs/ /
ARG KURZ_VERSION=
ARG KURZ_REVISION=unknown
ARG KURZ_SOURCE=
LABEL org.opencontainers.image.title="kurz-web" \
      org.opencontainers.image.description="kurz URL shortener, stage 3 web service: the single-page web UI and its static assets" \
      org.opencontainers.image.version="${KURZ_VERSION}" \
      org.opencontainers.image.revision="${KURZ_REVISION}" \
      org.opencontainers.image.source="${KURZ_SOURCE}" \
      org.opencontainers.image.base.name="scratch"
# The image version (its tag, from scripts/docker/build-images.sh): /info, metrics, the `ready` line.
# Empty (a plain `docker build`): the version compiled in from CMakeLists.txt.
ENV KURZ_VERSION=${KURZ_VERSION}
USER 10001:10001
ENV PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/kurz-probe", "--timeout-ms", "2000", "http://127.0.0.1:8080/health/live"]
ENTRYPOINT ["/usr/local/bin/kurz-web"]
