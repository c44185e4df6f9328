# Multi-stage build: a static cla binary on a minimal, non-root image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/cla ./cmd/cla

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cla /usr/local/bin/cla
USER nonroot:nonroot
WORKDIR /data
ENV CLA_DB=/data/cla.db CLA_ADDR=0.0.0.0:8080
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/cla"]
CMD ["serve"]
