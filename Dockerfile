# syntax=docker/dockerfile:1
# enat-serve: the ENAT image-generation HTTP server (`enat serve`) on a slim Debian runtime.
#   docker build -t enat-serve:dev .
#   docker run --rm -p 8080:8080 --cpus 2 --memory 512m -e ENAT_BLAS_THREADS=2 -e OPENBLAS_NUM_THREADS=2 enat-serve:dev
# Configuration: ENAT_* environment variables (the README's configuration table), or a JSON file
# mounted and named by ENAT_CONFIG. Models: the demo bundles are baked in at /app/Models; mount
# other bundles or the official ENAT files under /models and name them in ENAT_MODELS.

# --- build: the Swift toolchain runs the same build script as the README, CI and tools/serve.
FROM swift:6.3-bookworm AS build
WORKDIR /src
# tools/install-deps first, in its own layer: the Debian build packages stay cached across
# source edits.
COPY tools/install-deps tools/build tools/
RUN tools/install-deps
COPY . .
# The cache mount keeps SwiftPM's build folder (and the fetched swift-argument-parser) between
# image builds; the binary is copied out of it in the same step.
RUN --mount=type=cache,id=enat-serve-swiftpm,target=/src/.build \
    tools/build release \
    && install -D -m 0755 .build/release/enat /out/usr/local/bin/enat \
    && install -D -m 0755 deploy/docker/healthcheck /out/usr/local/bin/enat-healthcheck
# The default configuration and the demo bundles, readable by every user: a working tree may hold
# them with mode 0600 (tools/train writes them so), and the server does not run as their owner.
RUN mkdir -p /out/app \
    && cp -R Config Models /out/app/ \
    && chmod -R u=rwX,go=rX /out/app

# --- runtime: only the shared libraries the binary links. `tools/build release` links the Swift
# runtime and Foundation statically, so this list is exactly the Debian packages owning the
# libraries `ldd .build/release/enat` shows (tools/check-deploy compares the two):
#   libopenblas0-pthread  libopenblas.so.0      libpng16-16  libpng16.so.16
#   libjpeg62-turbo       libjpeg.so.62         libwebp7     libwebp.so.7
#   zlib1g                libz.so.1             libgfortran5 libgfortran.so.5 (from OpenBLAS)
#   libquadmath0          libquadmath.so.0      libstdc++6   libstdc++.so.6
#   libgcc-s1             libgcc_s.so.1         libc6        libc.so.6, libm.so.6
FROM debian:bookworm-slim AS runtime
# DL3008 (pin apt versions) is off for this line: bookworm's archive keeps only the current
# version of each package, so a pin breaks the build at the next point or security release;
# the base image tag fixes the Debian release instead.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libc6 libgcc-s1 libgfortran5 libjpeg62-turbo libopenblas0-pthread libpng16-16 libquadmath0 libstdc++6 \
        libwebp7 zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin enat
WORKDIR /app
# The binary, the health check, and /app/Config and /app/Models: root-owned, read-only for the
# server (models and the default configuration are data).
COPY --from=build /out/ /
# The server reads Config/enat-serve.json and Models/demo-* relative to /app when nothing else
# is configured. ENAT_HOST/ENAT_PORT are set here because EXPOSE and the health check rely on them
# (the server alone binds 127.0.0.1); JSON logs for collectors, even under `docker run -t`.
ENV ENAT_HOST=0.0.0.0 \
    ENAT_PORT=8080 \
    ENAT_LOG_FORMAT=json
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["/usr/local/bin/enat-healthcheck"]
# Exec form: `enat` is PID 1 and receives SIGTERM itself; the server watches SIGTERM and SIGINT
# and drains (stops accepting, finishes running jobs and streams for shutdown_grace_seconds).
# It spawns no processes, so there are no zombies to reap. One gap: the server watches signals
# from the moment it serves, and PID 1 ignores signals nobody watches, so a SIGTERM that arrives
# while the models are still loading is lost (the stop then waits for its timeout).
# `docker run --init` closes that gap for Docker.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/enat"]
CMD ["serve"]
