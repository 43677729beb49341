# syntax=docker/dockerfile:1
#
# The kubexit image: only the portable bundle (the native front kubexit, and lib/ with Node, its
# loader and six libraries) under
# /opt/kubexit, on scratch — no shell, no package manager. Used as an init container:
#
#   initContainers:
#     - name: kubexit
#       image: ghcr.io/kubexit/kubexit:<version>   # runs: kubexit install /kubexit
#       volumeMounts: [{name: kubexit, mountPath: /kubexit}]
#
# or copied into another image: COPY --from=ghcr.io/kubexit/kubexit:<version> /opt/kubexit /opt/kubexit
#
# Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 .
# Both architectures are built on amd64 (Node's arm64 binary comes from the npm registry and is
# injected, not executed), so the build stage is pinned to linux/amd64.

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
 && mkdir -p /out \
 && cp -a dist/linux-x64/image /out/amd64 \
 && cp -a dist/linux-arm64/image /out/arm64

FROM scratch
ARG TARGETARCH
ARG VERSION=dev
LABEL org.opencontainers.image.title="kubexit" \
      org.opencontainers.image.description="In-pod supervisor that makes Kubernetes Jobs with sidecars finish, with the right status" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/${TARGETARCH}/ /
USER 65532:65532
ENTRYPOINT ["/opt/kubexit/kubexit"]
CMD ["install", "/kubexit"]
