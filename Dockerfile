# The kubexit image: only the portable bundle (the native front kubexit, and lib/ with Node, its
# loader and six libraries) under /opt/kubexit, on scratch — no shell, no package manager. Used as
# an init container:
#
#   initContainers:
#     - name: kubexit
#       image: ghcr.io/kubexit/kubexit:<version>   # runs: kubexit install /kubexit
#       volumeMounts: [{name: kubexit, mountPath: /kubexit}]
#
# or copied into another image: COPY --from=ghcr.io/kubexit/kubexit:<version> /opt/kubexit /opt/kubexit
#
# Where the bundle comes from (BuildKit builds only the stages the chosen one needs):
#   docker build .                                   from the sources, in Node's image (the release)
#   docker build --build-arg BUNDLE=from-dist .      from dist/, made by npm run build on this
#                                                    machine: needs no registry at all
# Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 .
# Both architectures are built on amd64 (Node's arm64 binary comes from the npm registry and is
# injected, not executed), so the build stage is pinned to linux/amd64.
# No `# syntax=` line: the builder's own Dockerfile frontend is used, so nothing is fetched for it.

ARG BUNDLE=from-source

FROM --platform=linux/amd64 node:24-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends binutils binutils-aarch64-linux-gnu \
      libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross \
      musl-tools gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
COPY native ./native
RUN npm run build -- --all \
 && cp -a dist/image /out

FROM scratch AS from-source
ARG TARGETARCH
COPY --from=build /out/${TARGETARCH}/ /

FROM scratch AS from-dist
ARG TARGETARCH
COPY dist/image/${TARGETARCH}/ /

FROM ${BUNDLE} AS bundle

FROM scratch
ARG VERSION=dev
LABEL org.opencontainers.image.title="kubexit" \
      org.opencontainers.image.description="In-pod supervisor that makes Kubernetes Jobs with sidecars finish, with the right status" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=bundle /opt/ /opt/
COPY --from=bundle /bin/ /bin/
# The default install target, owned by the image's user: Docker fills a fresh named volume mounted
# here with this directory's owner and mode, so `install /kubexit` works in one (a root-owned
# volume would refuse uid 65532).
COPY --from=bundle --chown=65532:65532 /kubexit/ /kubexit/
USER 65532:65532
ENTRYPOINT ["/opt/kubexit/kubexit"]
CMD ["install", "/kubexit"]
