# syntax=docker/dockerfile:1
# Build:  docker build -t fupin .
# Run:    docker compose up   (PostgreSQL, Redis and the app; see docker-compose.yml)

# The web console (console/), built as scripts/console.sh builds it, then embedded by go build.
FROM node:20-bookworm-slim AS console
WORKDIR /src/console
COPY console/package.json console/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY api /src/api
COPY console ./
RUN ./node_modules/.bin/openapi-typescript ../api/openapi.yaml -o src/api/schema.d.ts --silent \
 && ./node_modules/.bin/vue-tsc --noEmit \
 && ./node_modules/.bin/vite build --logLevel warn

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=console /src/internal/console/dist/site internal/console/dist/site
RUN go build -ldflags='-s -w' -o /out/fupin ./cmd/fupin

FROM debian:bookworm-slim
# ca-certificates: TLS to managed databases; tzdata: Asia/Shanghai month cuts;
# fonts-wqy-microhei: Chinese text in PDF label sheets; curl: the HEALTHCHECK below.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata fonts-wqy-microhei curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /nonexistent --shell /usr/sbin/nologin fupin
COPY --from=build /out/fupin /usr/local/bin/fupin
USER fupin:fupin
ENV ADDR=:8080 LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/fupin"]
CMD ["serve"]
