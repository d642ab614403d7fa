# The two images the stacks deploy, built from the repository root:
#   docker build --target runtime      -t <registry>/voiceplane/runtime:<version> .
#   docker build --target call-control -t <registry>/voiceplane/call-control:<version> .
# runtime: the `voiceplane` CLI (a task definition's command is `cds serve ...`); call-control: the reference
# call-control service, configured by environment.

FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Only the runtime: it never imports lib/ or stacks/.
COPY tsconfig.json ./
COPY runtime ./runtime
RUN npx tsc -p tsconfig.json

FROM node:22-slim AS production
# tini as PID 1: forwards SIGTERM from ECS to node and reaps zombies.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node

FROM production AS runtime
# 7070: the Call Data Server's peer and local API.
EXPOSE 7070
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/runtime/cli.js"]
CMD ["--help"]

FROM production AS call-control
# 8084: outbound ESL from the media servers' dialplan; 8080: /health and /calls.
# ECS sends SIGTERM and waits stopTimeout (120 s); the service drains within CALL_CONTROL_SHUTDOWN_GRACE_MS (110 s).
EXPOSE 8084 8080
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/runtime/handlers/call-control.js"]
