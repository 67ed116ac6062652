# antiban-receiver alone: the small door Meta's webhooks knock on.  Build
# from the project root:
#   docker build -f docker/receiver.Dockerfile -t antiban-receiver .
#   docker run --rm -p 8080:8080 \
#     -e ANTIBAN_RECEIVER_CONNINFO='host=db dbname=antiban user=receiver' antiban-receiver
# The conninfo's role needs only antiban_receiver; put TLS in front (Meta
# only posts to https).
FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q && apt-get install -y -q --no-install-recommends \
        gcc make pkg-config libc6-dev libmicrohttpd-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY src/receiver/ .
RUN make && make install bindir=/out

FROM debian:12
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q && apt-get install -y -q --no-install-recommends libmicrohttpd12 libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --shell /usr/sbin/nologin receiver
COPY --from=build /out/antiban-receiver /usr/local/bin/antiban-receiver
USER receiver
ENV ANTIBAN_RECEIVER_LISTEN=0.0.0.0 ANTIBAN_RECEIVER_PORT=8080
EXPOSE 8080
ENTRYPOINT ["antiban-receiver"]
