# Minimal image: Node 24 runs the TypeScript sources directly (type stripping). The single-binary
# image that copies itself into a shared emptyDir comes with the packaging work.
FROM node:24-bookworm-slim
WORKDIR /opt/kubexit
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY src ./src
USER node
ENTRYPOINT ["/opt/kubexit/bin/kubexit.js"]
