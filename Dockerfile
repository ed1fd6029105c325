# One image recipe for every DMH deployable: docker build --build-arg PROJECT=Dmh.Ingress .
FROM node:20-bookworm AS frontends
WORKDIR /src
COPY admin/ admin/
COPY h5/ h5/
COPY packages/ packages/
RUN for d in admin h5; do \
      if [ -f "$d/package.json" ]; then (cd "$d" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund && npm run build); fi; \
    done; mkdir -p admin/dist h5/dist/build/h5

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG PROJECT=Dmh.Ingress
WORKDIR /src
COPY . .
RUN dotnet publish "$PROJECT/$PROJECT.csproj" -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
ARG PROJECT=Dmh.Ingress
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk curl openssl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
COPY --from=frontends /src/admin/dist /srv/admin
COPY --from=frontends /src/h5/dist/build/h5 /srv/h5
# ./dmh keys (compose.yaml's keys service) and the entry point that reads a service's settings file.
COPY dmh /opt/dmh/dmh
COPY scripts/ /opt/dmh/scripts/
COPY deploy/docker/start.sh /opt/dmh/start.sh
ENV DMH_PROJECT=$PROJECT \
    Frontends__AdminDist=/srv/admin \
    Frontends__H5Dist=/srv/h5 \
    Urls=http://0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/opt/dmh/start.sh"]
