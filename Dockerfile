# Sluice's executables in one image: `docker compose up` builds it (see docker-compose.yml).
# Build stage: Swift on Debian 12 with the same setup script a developer runs
# (Debian packages, the librdkafka runtime from the confluent-kafka wheel).
FROM swift:6.3-bookworm AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      librdkafka-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev python3 python3-pip ca-certificates >/dev/null
WORKDIR /src
COPY . .
RUN SLUICE_SETUP_TEST_TOOLS=0 bash scripts/setup.sh && swift build -c release --static-swift-stdlib

# Run stage: the executables, the librdkafka runtime beside them (rpath $ORIGIN/../lib)
# and the topology file where they look for it (../share/sluice/topology).
FROM debian:bookworm-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      libcurl4 libssl3 libsqlite3-0 ca-certificates >/dev/null && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/.deps/lib/ /usr/local/lib/
COPY --from=build /src/.build/release/sluice /src/.build/release/sluice-fanout /src/.build/release/sluice-dispatch \
                  /src/.build/release/sluice-retry /src/.build/release/sluice-dlq /src/.build/release/sluice-admin /usr/local/bin/
COPY topology/sluice.yaml /usr/local/share/sluice/topology/sluice.yaml
USER nobody
CMD ["sluice", "--help"]
